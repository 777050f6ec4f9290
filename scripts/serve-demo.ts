/**
 * `npm run demo`: builds the demo page and serves it with an exported agent.
 *
 *   npm run demo                          the shipped agent (models/default-agent), else the newest
 *                                         run in runs/ (exported now), else a quick export
 *   npm run demo -- --export <dir>        an `alignsam export` folder
 *   npm run demo -- --run <dir>           export this run now, then serve it
 *   options: --port 8080  --host 127.0.0.1  --no-build
 *
 * The quick export (a few dozen PPO steps with the micro-SAM, in .cache/demo/quick) is there so
 * the page works on a fresh clone; its agent is barely trained.
 */
import * as fs from 'fs';
import * as path from 'path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { buildDemo, DIST_DIR, ROOT_DIR } from '../demo/build';
import { makeQuickExport } from '../demo/quick-export';
import { DEFAULT_AGENT } from '../src/cli/commands/predict';
import { startDemoServer } from '../demo/server';
import { initBackend } from '../src/backend';
import { EXPORT_MANIFEST, exportRun } from '../src/runs/export';
import { microSamWeights } from '../src/runs/factory';

const CACHE = path.join(ROOT_DIR, '.cache', 'demo');
const log = (m: string) => process.stderr.write(`${m}\n`);

/** Runs under runs/, newest first. */
function runsNewestFirst(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((n) => path.join(dir, n))
    .filter((d) => fs.existsSync(path.join(d, 'config.yaml')) && fs.existsSync(path.join(d, 'checkpoints')))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
}

function sameBytes(a: string, b: string): boolean {
  return (
    fs.existsSync(a) &&
    fs.existsSync(b) &&
    fs.statSync(a).size === fs.statSync(b).size &&
    fs.readFileSync(a).equals(fs.readFileSync(b))
  );
}

async function exportOf(run: string): Promise<string> {
  const out = path.join(CACHE, 'exports', path.basename(path.resolve(run)));
  log(`exporting ${run} -> ${path.relative(process.cwd(), out)}`);
  await exportRun(run, out, { log });
  return out;
}

async function chooseExport(args: { export?: string; run?: string }): Promise<string> {
  if (args.export) {
    if (!fs.existsSync(path.join(args.export, EXPORT_MANIFEST)))
      throw new Error(
        `${args.export}: not an export folder (${EXPORT_MANIFEST} missing); make one with: npx alignsam export --run <run> --out <dir>`,
      );
    return args.export;
  }
  await initBackend('wasm');
  if (args.run) return exportOf(args.run);
  if (fs.existsSync(path.join(DEFAULT_AGENT, EXPORT_MANIFEST))) {
    log(
      `serving the shipped agent ${path.relative(process.cwd(), DEFAULT_AGENT)} (its MODEL_CARD.md says how it was trained; --run or --export for another)`,
    );
    return DEFAULT_AGENT;
  }
  for (const run of runsNewestFirst(path.join(ROOT_DIR, 'runs'))) {
    try {
      return await exportOf(run);
    } catch (err) {
      log(`  skipped: ${(err as Error).message}`);
    }
  }
  const quick = path.join(CACHE, 'quick');
  if (
    fs.existsSync(path.join(quick, 'export', EXPORT_MANIFEST)) &&
    sameBytes(path.join(quick, 'export', 'sam.safetensors'), microSamWeights())
  ) {
    log(
      `no run in runs/: serving the quick export in ${path.relative(process.cwd(), quick)} (a barely trained agent; train one with npm start)`,
    );
    return path.join(quick, 'export');
  }
  // None yet, or made with micro-SAM weights that have changed since.
  log('no run in runs/: training a quick agent for the page (a few seconds; train a real one with npm start)');
  return (await makeQuickExport({ dir: quick, log })).exportDir;
}

async function main(): Promise<void> {
  const args = await yargs(hideBin(process.argv))
    .scriptName('npm run demo --')
    .option('export', { type: 'string', describe: 'an `alignsam export` folder' })
    .option('run', { type: 'string', describe: 'a run folder to export and serve' })
    .option('port', { type: 'number', default: 8080 })
    .option('host', { type: 'string', default: '127.0.0.1' })
    .option('build', { type: 'boolean', default: true, describe: 'rebuild the page first (--no-build to skip)' })
    .conflicts('export', 'run')
    .strict()
    .parse();
  if (args.build) {
    const b = await buildDemo({ minify: true });
    log(`page built in ${b.ms} ms (${path.relative(process.cwd(), b.outDir)})`);
  } else if (!fs.existsSync(path.join(DIST_DIR, 'app.js'))) {
    throw new Error(`${DIST_DIR}/app.js missing: run without --no-build`);
  }
  const exportDir = await chooseExport(args);
  const server = await startDemoServer({ distDir: DIST_DIR, exportDir, port: args.port, host: args.host });
  log(`serving ${path.relative(process.cwd(), path.resolve(exportDir)) || exportDir}`);
  process.stdout.write(`demo: ${server.url}  (Ctrl+C to stop)\n`);
  process.on('SIGINT', () => void server.close().then(() => process.exit(0)));
}

main().catch((err: Error) => {
  process.stderr.write(`demo: ${err.message}\n`);
  process.exit(1);
});
