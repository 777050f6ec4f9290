import type { CommandModule } from 'yargs';
import { setList, withAllowCode, withSet } from '../common';

export interface ConfigArgs {
  config?: string;
  set?: string | string[];
  docs: boolean;
  write?: string;
  check?: string[];
}

export const configCommand: CommandModule<object, ConfigArgs> = {
  command: 'config',
  describe: 'Print a resolved config, check config files, or print the documentation of every key',
  builder: (y) =>
    withAllowCode(
      withSet(
        y
          .option('config', {
            alias: 'c',
            type: 'string',
            describe: 'Print this config resolved (defaults filled in, overrides applied)',
          })
          .option('check', {
            type: 'string',
            array: true,
            describe: 'Validate these config files; exit 1 on the first invalid one',
          })
          .option('docs', {
            type: 'boolean',
            default: false,
            describe: 'Print the key table (markdown) generated from the schema',
          })
          .option('write', {
            type: 'string',
            describe:
              'With --docs: rewrite the generated tables inside this markdown file (configs/README.md, docs/env.md)',
          }),
      ),
    )
      .check((a) => {
        if ([a.config !== undefined, a.check !== undefined, a.docs].filter(Boolean).length !== 1)
          throw new Error('give one of --config <yaml>, --check <files...> or --docs');
        if (a.write && !a.docs) throw new Error('--write goes with --docs');
        return true;
      })
      .example('$0 config -c configs/synthetic-ppo.yaml --set env.num_envs=2', 'the config as a run would use it')
      .example('$0 config --check configs/*.yaml', 'validate config files')
      .example('$0 config --docs --write configs/README.md', 'regenerate the key table')
      .example('$0 config --docs --write docs/env.md', "regenerate the env's option table"),
  handler: async (a) => {
    const { dumpConfig, loadConfig } = await import('../../config/load-config');
    if (a.config) {
      process.stdout.write(
        dumpConfig(loadConfig(a.config, { overrides: setList(a.set) }), `Resolved from ${a.config}`),
      );
      return;
    }
    if (a.check) {
      for (const f of a.check) {
        loadConfig(f, { overrides: setList(a.set) });
        process.stdout.write(`ok  ${f}\n`);
      }
      return;
    }
    const { configKeysMarkdown, withGeneratedDocs } = await import('../../config/docs');
    if (a.write) {
      const fs = await import('fs');
      const { writeAll, writeFileAtomic } = await import('../../io/atomic-file');
      const before = fs.existsSync(a.write) ? fs.readFileSync(a.write, 'utf8') : '# Configs\n';
      const after = Buffer.from(withGeneratedDocs(before), 'utf8');
      await writeFileAtomic(a.write, (handle) => writeAll(handle, after));
      process.stdout.write(`updated ${a.write}\n`);
    } else process.stdout.write(`${configKeysMarkdown()}\n`);
  },
};
