import type { CommandModule } from 'yargs';

export interface ExportArgs {
  run: string;
  out: string;
  checkpoint: string;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Export a trained agent as a folder that runs with @tensorflow/tfjs alone (Node or browser)',
  builder: (y) =>
    y
      .option('run', { type: 'string', demandOption: true, describe: 'The run folder' })
      .option('out', { type: 'string', demandOption: true, describe: 'Folder to write' })
      .option('checkpoint', { type: 'string', default: 'best', describe: "'best', 'latest', or a checkpoint folder" })
      .example('$0 export --run runs/synthetic-ppo-20250101-120000 --out exports/synthetic', 'policy, SRM, action grid, preprocessing and category vectors in one folder')
      .epilogue('Load it with the loader in the folder, or run it with `alignsam predict --export <dir>`.'),
  handler: async () => {
    const { NotAvailableError } = await import('../../runs/not-available');
    throw new NotAvailableError('export', 'the full agent export (policy + SRM + grid + preprocessing + category vectors) from src/agent is not wired into the CLI yet');
  },
};
