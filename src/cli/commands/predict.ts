import type { CommandModule } from 'yargs';

export interface PredictArgs {
  export: string;
  image: string;
  target?: string;
  out: string;
  clicks?: number;
}

export const predictCommand: CommandModule<object, PredictArgs> = {
  command: 'predict',
  describe: 'Click on an image with an exported agent: writes the clicks (JSON) and an overlay PNG',
  builder: (y) =>
    y
      .option('export', { type: 'string', demandOption: true, describe: 'An exported agent folder (alignsam export)' })
      .option('image', { type: 'string', demandOption: true, describe: 'Image file (PNG, JPEG, WebP ...)' })
      .option('target', { type: 'string', describe: "The target's name (for agents trained on named targets)" })
      .option('clicks', { type: 'number', describe: "Clicks to make (default: the agent's horizon)" })
      .option('out', { type: 'string', default: 'predictions', describe: 'Output folder: <image>.clicks.json and <image>.overlay.png' })
      .example('$0 predict --export exports/coco --image photo.jpg --target dog', 'clicks and mask for the dog in photo.jpg')
      .example('$0 predict --export exports/synthetic --image scene.png --out out/', 'an implicit-task agent (no target name)'),
  handler: async () => {
    const { NotAvailableError } = await import('../../runs/not-available');
    throw new NotAvailableError('predict', 'it runs an exported agent, and the agent export is not wired into the CLI yet (see alignsam export)');
  },
};
