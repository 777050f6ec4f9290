/**
 * The `alignsam` command line. Commands load their modules when they run, so `--help` answers
 * without loading TensorFlow.js.
 */
import * as fs from 'fs';
import * as path from 'path';
import yargs, { type Argv } from 'yargs';
import { ALLOW_CODE_ENV } from '../config/allow-code';
import { ablateCommand } from './commands/ablate';
import { benchCommand } from './commands/bench';
import { configCommand } from './commands/config';
import { downloadCommand } from './commands/download';
import { embedCommand } from './commands/embed';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { predictCommand } from './commands/predict';
import { resultsCommand } from './commands/results';
import { trainCommand } from './commands/train';

/** The package's version; package.json sits two folders up from both src/cli and dist/cli. */
export function packageVersion(): string {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
}

export const COMMANDS = [
  trainCommand,
  evalCommand,
  ablateCommand,
  resultsCommand,
  embedCommand,
  exportCommand,
  predictCommand,
  benchCommand,
  downloadCommand,
  configCommand,
];

/** The parser; `exitProcess` false keeps it from ending the process (tests). */
export function createCli(args: readonly string[], opts: { exitProcess?: boolean } = {}): Argv {
  let cli = yargs([...args])
    .scriptName('alignsam')
    .usage(
      '$0 <command> [options]\n\nAlignSAM in TensorFlow.js: train an agent that learns where to click a frozen SAM.',
    )
    .strict()
    .recommendCommands()
    .demandCommand(1, 'name a command (alignsam --help lists them)')
    .exitProcess(opts.exitProcess ?? true)
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    // Unwrapped, so that each example command stays on one line and can be pasted.
    .wrap(null)
    .epilogue('Each command has --help with examples. Configs: configs/README.md.')
    .example(
      '$0 train --config configs/synthetic-ppo.yaml',
      'train the default agent offline (micro-SAM, synthetic shapes)',
    )
    .example('$0 eval --run runs/<name>', 'compare a trained agent with the random, centre and oracle clickers');
  for (const c of COMMANDS) cli = cli.command(c as never);
  // Through the environment, so the config loads deep inside a command (a resumed run's) see it too.
  cli = cli.middleware((argv) => {
    if (argv['allow-code'] === true) process.env[ALLOW_CODE_ENV] = '1';
  });
  return cli;
}

/** Run the CLI; resolves to the exit code. */
export async function main(args: readonly string[] = process.argv.slice(2)): Promise<number> {
  let failed: Error | null = null;
  const allowCodeBefore = process.env[ALLOW_CODE_ENV];
  // Throwing from fail() stops yargs before any handler runs.
  const cli = createCli(args, { exitProcess: false }).fail((msg, err) => {
    throw err ?? new UsageError(msg);
  });
  try {
    await cli.parseAsync();
  } catch (err) {
    failed = err instanceof Error ? err : new Error(String(err));
  } finally {
    if (allowCodeBefore === undefined) delete process.env[ALLOW_CODE_ENV];
    else process.env[ALLOW_CODE_ENV] = allowCodeBefore;
  }
  if (failed) {
    const e = failed as Error;
    process.stderr.write(`\nalignsam: ${e instanceof UsageError ? `${e.message} (see --help)` : e.message}\n`);
    if (process.env.ALIGNSAM_DEBUG && e.stack) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
  return 0;
}

class UsageError extends Error {}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`alignsam: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
