import type { CommandModule } from 'yargs';
import { setList, stderrLog, withAllowCode, withSet } from '../common';

export interface AblateArgs {
  config: string;
  seeds: number;
  out?: string;
  jobs?: number;
  quick: boolean;
  set?: string | string[];
  variants?: string;
  progress: boolean;
}

/** Fraction of each run's training steps under --quick. */
export const QUICK_STEP_SCALE = 0.5;

export const ablateCommand: CommandModule<object, AblateArgs> = {
  command: 'ablate',
  describe:
    "Reproduce the paper's ablations from one config: full, w/o RL, w/o SRM, single step, and IoU against the horizon, over several seeds",
  builder: (y) =>
    withAllowCode(
      withSet(
        y
          .option('config', {
            alias: 'c',
            type: 'string',
            demandOption: true,
            describe: 'The config of the full run (YAML)',
          })
          .option('seeds', { type: 'number', default: 3, describe: 'Training seeds per variant (0 .. N-1)' })
          .option('out', {
            type: 'string',
            describe: 'Output folder (default: <run.dir>/ablate-<config name>); run the command again to resume it',
          })
          .option('jobs', {
            type: 'number',
            describe: 'Runs trained at once, each in its own process (default: the number of cores)',
          })
          .option('quick', {
            type: 'boolean',
            default: false,
            describe: `Train each run for ${QUICK_STEP_SCALE} of its steps`,
          })
          .option('variants', {
            type: 'string',
            describe: 'Comma-separated variants to train (full, no-srm, T1, T5, T10; default: all)',
          })
          .option('progress', { type: 'boolean', default: true, describe: 'Progress line on stderr' }),
      ),
    )
      .example(
        '$0 ablate --config configs/synthetic-ppo.yaml --seeds 3',
        'the embedded default: 15 runs, table, ablation.json and ablation.png',
      )
      .example(
        '$0 results --ablation runs/ablate-synthetic-ppo/ablation.json',
        'the results page and README table from it',
      )
      .epilogue(
        'Each run is an ordinary run folder (eval.json, report/); a killed ablation resumes where it stopped when run again with the same arguments.',
      ),
  handler: async (a) => {
    const fs = await import('fs');
    const path = await import('path');
    const { loadConfig } = await import('../../config/load-config');
    const { runAblation } = await import('../../runs/ablation');
    const { summarizeAblation } = await import('../../runs/ablation-summary');
    const { writeAblationPlot } = await import('../../report/ablation-plot');
    const { resultsTable, paperShape, provenance } = await import('../../report/results-page');
    const overrides = setList(a.set);
    const config = loadConfig(a.config, { overrides });
    const out = a.out ?? path.join(config.run.dir, `ablate-${path.basename(a.config).replace(/\.ya?ml$/i, '')}`);
    const os = await import('os');
    const jobs = a.jobs ?? os.cpus().length;
    const t0 = Date.now();
    const runs = await runAblation({
      config,
      configFile: a.config,
      out,
      seeds: a.seeds,
      jobs,
      stepScale: a.quick ? QUICK_STEP_SCALE : 1,
      variants: a.variants?.split(',').map((v) => v.trim()),
      log: stderrLog,
      progress: a.progress ? process.stderr : null,
    });
    const wallFile = path.join(out, 'wall-seconds.json');
    const wallSeconds = fs.existsSync(wallFile) ? JSON.parse(fs.readFileSync(wallFile, 'utf8')) : {};
    // Wall time of the invocations that trained something, summed (a resumed set counts each
    // part; an invocation that only summarises finished runs adds nothing).
    const commandFile = path.join(out, 'command-wall-seconds.json');
    const spent = fs.existsSync(commandFile)
      ? (JSON.parse(fs.readFileSync(commandFile, 'utf8')) as { seconds: number; runs: Record<string, number> })
      : { seconds: 0, runs: {} };
    if (JSON.stringify(spent.runs) !== JSON.stringify(wallSeconds)) {
      spent.seconds += (Date.now() - t0) / 1000;
      spent.runs = wallSeconds;
      fs.writeFileSync(commandFile, `${JSON.stringify(spent, null, 1)}\n`);
    }
    const summary = summarizeAblation(runs, {
      config: a.config,
      out,
      commandWallSeconds: spent.seconds,
      jobs,
      wallSeconds,
    });
    const json = path.join(out, 'ablation.json');
    fs.writeFileSync(json, `${JSON.stringify(summary, null, 1)}\n`);
    const png = path.join(out, 'ablation.png');
    await writeAblationPlot(summary, png);
    process.stdout.write(`Protocol: ${summary.protocol}\n${provenance(summary)}\n\n${resultsTable(summary)}\n\n`);
    for (const c of paperShape(summary))
      process.stdout.write(
        `${c.claim}: ${c.value} (${c.holds === null ? 'n/a' : c.holds ? 'holds' : 'does not hold'})\n`,
      );
    process.stdout.write(`\nwrote ${json}\n      ${png}\n`);
  },
};
