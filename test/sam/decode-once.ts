/** One encoder pass over a fixed random input and one single-click decode: a model's fingerprint. */
import * as tf from '@tensorflow/tfjs';
import { ImageEmbedding } from '../../src/sam/image-embedding';
import type { SamModel } from '../../src/sam/modeling/sam-model';

/** The multimask low-res logits for a positive click at (10, 20) in the input frame. */
export function decodeOnce(sam: SamModel): Float32Array {
  const s = sam.config.imageEncoder.imgSize;
  const emb = tf.tidy(() => sam.encodeImage(tf.randomUniform([s, s, 3], -1, 1, 'float32', 7) as tf.Tensor3D));
  const e = new ImageEmbedding('k', emb, { height: s, width: s }, { height: s, width: s });
  try {
    const [out] = sam.decode([
      { embedding: e, prompt: { pointsXY: [10, 20], pointLabels: [1] }, multimaskOutput: true },
    ]);
    const logits = out.lowResLogits.dataSync() as Float32Array;
    tf.dispose([out.lowResLogits, out.iouPredictions]);
    return logits;
  } finally {
    e.dispose();
  }
}
