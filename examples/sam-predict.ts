/**
 * Load a SAM checkpoint, encode an image once, predict masks from clicks, and batch prompt sets.
 *
 *   npx ts-node --transpile-only examples/sam-predict.ts [checkpoint] [image]
 *
 * Defaults: the tiny parity fixture and a synthetic scene, so it runs offline.
 */
import * as path from 'path';
import { initBackend } from '../src/backend';
import { readImageRgb } from '../src/data/image-io';
import { SyntheticDataset } from '../src/data/synthetic';
import { EmbeddingCache, SamPredictor, disposePrediction, loadSam } from '../src/sam';

async function main(): Promise<void> {
  const backend = await initBackend('auto'); // tensorflow (native/GPU) when installed, else wasm
  const checkpoint = process.argv[2] ?? path.join(__dirname, '../../shared/fixtures/sam/tiny/weights.safetensors');
  const sam = await loadSam(checkpoint); // .safetensors or .pth, official or Hugging Face names
  const image = process.argv[3]
    ? await readImageRgb(process.argv[3])
    : (await new SyntheticDataset({ seed: 0, length: 1 }).get(0)).image;

  const cache = new EmbeddingCache(sam, { dir: '.cache/embeddings' }); // memory + disk, keyed by content
  const predictor = new SamPredictor(sam, cache);
  await predictor.setImage(image); // the encoder runs once per image

  const single = predictor.predict({
    pointCoords: [[image.width / 2, image.height / 2]],
    pointLabels: [1],
    multimaskOutput: false,
  });
  console.log(
    `backend ${backend}: mask ${single.masks!.shape}, predicted IoU ${single.iouPredictions.dataSync()[0].toFixed(3)}`,
  );

  // Many prompt sets in one decoder call (they may also name other embeddings).
  const batch = predictor.predictBatch([
    { pointCoords: [10, 10], pointLabels: [1], lowResOnly: true },
    { pointCoords: [10, 10, 40, 30], pointLabels: [1, 0], lowResOnly: true },
    { box: [5, 5, image.width - 5, image.height - 5], lowResOnly: true },
  ]);
  console.log(`batched: ${batch.map((p) => p.lowResLogits.shape.join('x')).join(', ')}`);

  [single, ...batch].forEach(disposePrediction);
  predictor.resetImage();
  sam.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
