import * as path from 'path';
import type { CommandModule } from 'yargs';

export interface PredictArgs {
  export: string;
  image: string;
  target?: string;
  out: string;
  clicks?: number;
}

/** The agent shipped in the package (models/default-agent/MODEL_CARD.md says how it was trained). */
export const DEFAULT_AGENT = path.join(__dirname, '..', '..', '..', 'models', 'default-agent');

export const predictCommand: CommandModule<object, PredictArgs> = {
  command: 'predict',
  describe: 'Click on an image with an exported agent: writes the clicks (JSON), the mask (PNG) and an overlay PNG',
  builder: (y) =>
    y
      .option('export', {
        type: 'string',
        default: DEFAULT_AGENT,
        describe:
          'An exported agent folder (alignsam export); default: the shipped agent for the embedded synthetic task',
      })
      .option('image', { type: 'string', demandOption: true, describe: 'Image file (PNG, JPEG, WebP ...)' })
      .option('target', { type: 'string', describe: "The target's name (for agents trained on named targets)" })
      .option('clicks', { type: 'number', describe: "Clicks to make (default: the agent's horizon)" })
      .option('out', {
        type: 'string',
        default: 'predictions',
        describe: 'Output folder: <image>.clicks.json, <image>.mask.png and <image>.overlay.png',
      })
      .example(
        '$0 predict --export exports/coco --image photo.jpg --target dog',
        'clicks and mask for the dog in photo.jpg',
      )
      .example(
        '$0 predict --export exports/synthetic --image scene.png --out out/',
        'an implicit-task agent (no target name)',
      )
      .epilogue(
        "The JSON lists the clicks in order (x, y in image pixels, label 1 positive / 0 negative, the grid cell; step 0 marks initial prompts). The mask is a grey PNG of the image's size, 255 inside and 0 outside. The overlay shows the mask in blue and the clicks numbered.",
      ),
  handler: async (a) => {
    const fs = await import('fs');
    const { startBackend, stderrLog } = await import('../common');
    const { loadExport } = await import('../../runs/export');
    const { predictImage } = await import('../../runs/predict');
    const { maskToGrey, readImageRgb, writePng } = await import('../../data/image-io');
    const { drawEpisode } = await import('../../report/episode-picture');
    await startBackend(undefined, 'auto', stderrLog);
    const image = await readImageRgb(a.image);
    const exp = await loadExport(a.export);
    try {
      const base = path.basename(a.image).replace(/\.[^.]+$/, '');
      const p = await predictImage(exp, image, a.target ?? null, { clicks: a.clicks, id: base });
      fs.mkdirSync(a.out, { recursive: true });
      const json = path.join(a.out, `${base}.clicks.json`);
      const maskPng = path.join(a.out, `${base}.mask.png`);
      const png = path.join(a.out, `${base}.overlay.png`);
      const record = {
        image: path.resolve(a.image),
        width: p.width,
        height: p.height,
        target: p.target,
        export: path.resolve(a.export),
        clicks: p.clicks,
        mask_area: p.maskArea,
      };
      fs.writeFileSync(json, `${JSON.stringify(record, null, 1)}\n`);
      await writePng(maskPng, maskToGrey(p.mask, p.width, p.height));
      const picture = await drawEpisode(
        {
          sample: {
            id: base,
            image,
            mask: new Uint8Array(image.width * image.height),
            width: image.width,
            height: image.height,
            targetName: p.target,
          },
          mask: p.mask,
          pointsXY: p.clicks.flatMap((c) => [c.x, c.y]),
          labels: p.clicks.map((c) => c.label),
          initialCount: p.initialCount,
        },
        { caption: `${p.target ?? base}: ${p.clicks.length - p.initialCount} clicks, mask ${p.maskArea} px` },
      );
      await writePng(png, picture);
      process.stdout.write(`${json}\n${maskPng}\n${png}\n`);
    } finally {
      exp.dispose();
    }
  },
};
