import type { CommandModule } from 'yargs';
import { withAllowCode } from '../common';

export interface ExportArgs {
  run: string;
  out: string;
  checkpoint: string;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Export a trained agent as a folder that runs with @tensorflow/tfjs alone (Node or browser)',
  builder: (y) =>
    withAllowCode(y)
      .option('run', { type: 'string', demandOption: true, describe: 'The run folder' })
      .option('out', { type: 'string', demandOption: true, describe: 'Folder to write' })
      .option('checkpoint', {
        type: 'string',
        default: 'latest',
        describe:
          "'latest' (the one the run's final evaluation evaluated), 'best' (best periodic evaluation), or a checkpoint folder",
      })
      .example(
        '$0 export --run runs/synthetic-ppo-20250101-120000 --out exports/synthetic',
        'policy, SRM, action grid, preprocessing and category vectors in one folder',
      )
      .example(
        '$0 export --run runs/my-run --checkpoint best --out exports/my-run',
        'the best periodic evaluation instead of the last checkpoint',
      )
      .epilogue(
        'The folder holds alignsam-export.json (grid, horizon, label source, initial prompts, SAM, text encoder), policy.json + policy.weights.bin ' +
          '(PolicyRuntime in src/agent/export runs them with @tensorflow/tfjs alone), srm/, categories.json, and the SAM weights when they are small (the micro-SAM). ' +
          'Run it with `alignsam predict --export <dir>` or `alignsam eval --export <dir> --config <yaml>`.',
      ),
  handler: async (a) => {
    const { exportRun } = await import('../../runs/export');
    const { startBackend, stderrLog } = await import('../common');
    await startBackend(undefined, 'auto', stderrLog);
    const m = await exportRun(a.run, a.out, { checkpoint: a.checkpoint, log: stderrLog });
    process.stdout.write(
      `exported ${m.algo} ${m.source.checkpoint} (${m.source.numTimesteps} steps) to ${a.out}: ${m.env.gridSize}x${m.env.gridSize} grid, ${m.env.horizon} clicks, labels from ${m.env.labelSource}, ` +
        `start '${m.env.initialPrompts}', SAM ${m.sam.copied ? 'copied' : `at ${m.sam.weights}`}${m.srm ? ', SRM' : ''}${m.categories ? ', category vectors' : ''}\n`,
    );
  },
};
