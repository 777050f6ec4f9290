/**
 * The parity check shared by the parity tests: runs a model over every image and case of a fixture
 * and compares every stored tensor (see parity.test.ts for the tolerances).
 */
import * as tf from '@tensorflow/tfjs';
import { ImageEmbedding } from '../../src/sam/image-embedding';
import { SamModel } from '../../src/sam/modeling/sam-model';
import { SamPredictor, disposePrediction } from '../../src/sam/predictor';
import { applyCoords, normalizeAndPad, resizeImageLongestSide } from '../../src/sam/processing/transforms';
import { SamFixture, binaryAgreement, expectClose } from './fixture';

export async function checkModel(fx: SamFixture, sam: SamModel): Promise<void> {
  const s = sam.config.imageEncoder.imgSize;
  const embeddings = new Map<string, ImageEmbedding>();
  try {
    for (const img of fx.cases.images) {
      const [h, w] = img.original_size;
      const rgb = fx.raw(img.tensors.rgb).data as Uint8Array;
      const resized = resizeImageLongestSide(rgb, { height: h, width: w }, s);
      expect([resized.size.height, resized.size.width]).toEqual(img.input_size);
      const refResized = fx.raw(img.tensors.resized).data as Uint8Array;
      let sad = 0;
      for (let i = 0; i < refResized.length; i++) sad += Math.abs(refResized[i] - resized.pixels[i]);
      expect(sad / refResized.length).toBeLessThanOrEqual(0.5);

      const input = normalizeAndPad(resized.pixels, resized.size, s, sam.config.pixelMean, sam.config.pixelStd);
      if (fx.has(img.tensors.input)) expectClose(`${img.id} input`, input, fx.nchwToHwc(img.tensors.input));
      const inputT = tf.tensor3d(input, [s, s, 3]);
      if (fx.has(img.tensors['encoder.patch_embed'])) {
        const pe = sam.imageEncoder.patchEmbed(inputT);
        expectClose(`${img.id} patch_embed`, pe.dataSync(), fx.f32(img.tensors['encoder.patch_embed']).data);
        pe.dispose();
      }
      const emb = sam.imageEncoder.forward(inputT, (i, out) => {
        const name = img.tensors[`encoder.block${i}`];
        if (fx.has(name)) expectClose(`${img.id} block${i}`, out.dataSync(), fx.f32(name).data);
      });
      inputT.dispose();
      expectClose(`${img.id} embeddings`, emb.dataSync(), fx.nchwToHwc(img.tensors.embeddings));
      embeddings.set(img.id, new ImageEmbedding(img.id, emb, { height: h, width: w }, resized.size));
    }

    const predictor = new SamPredictor(sam);
    for (const c of fx.cases.cases) {
      const emb = embeddings.get(c.image)!;
      const p = c.prompt;
      const pointCoords = p.point_coords ? (p.point_coords as number[][]).flat() : null;
      if (c.tensors.point_coords_model)
        expectClose(
          `${c.id} coords`,
          applyCoords(pointCoords!, emb.originalSize, s),
          fx.f32(c.tensors.point_coords_model).data,
        );
      if (c.tensors.box_model)
        expectClose(`${c.id} box`, applyCoords(p.box, emb.originalSize, s), fx.f32(c.tensors.box_model).data);
      const modelPrompt = {
        pointsXY: pointCoords ? applyCoords(pointCoords, emb.originalSize, s) : undefined,
        pointLabels: p.point_labels ?? undefined,
        boxXYXY: p.box ? applyCoords(p.box, emb.originalSize, s) : undefined,
      };
      const sparse = sam.sparseEmbeddings(modelPrompt);
      expect(sparse.shape[0]).toBe(c.num_sparse_tokens);
      expectClose(`${c.id} sparse`, sparse.dataSync(), fx.f32(c.tensors.sparse_embeddings).data);
      sparse.dispose();
      const l = 4 * sam.gridSize;
      const maskInput = c.tensors.mask_input
        ? (tf.tensor(fx.f32(c.tensors.mask_input).data, [l, l]) as tf.Tensor2D)
        : null;
      if (c.tensors.dense_embeddings) {
        const dense = sam.denseEmbedding(maskInput);
        expectClose(`${c.id} dense`, dense.dataSync(), fx.nchwToHwc(c.tensors.dense_embeddings));
        dense.dispose();
      }
      for (const run of c.runs) {
        const tag = `${c.id} ${run.multimask_output ? 'multi' : 'single'}`;
        if (c.tensors['decoder.transformer_queries'] && run.multimask_output) {
          const outs = sam.decode(
            [{ embedding: emb, prompt: modelPrompt, maskInput, multimaskOutput: true }],
            (_i, x) => {
              expectClose(
                `${tag} transformer_queries`,
                x.transformerQueries.dataSync(),
                fx.f32(c.tensors['decoder.transformer_queries']).data,
              );
              expectClose(
                `${tag} transformer_keys`,
                x.transformerKeys.dataSync(),
                fx.f32(c.tensors['decoder.transformer_keys']).data,
              );
              expectClose(
                `${tag} upscaled_embedding`,
                x.upscaledEmbedding.dataSync(),
                fx.nchwToHwc(c.tensors['decoder.upscaled_embedding']),
              );
              tf.dispose([x.transformerQueries, x.transformerKeys, x.upscaledEmbedding]);
            },
          );
          tf.dispose([outs[0].lowResLogits, outs[0].iouPredictions]);
        }
        predictor.setEmbedding(emb);
        const pred = predictor.predict({
          pointCoords,
          pointLabels: p.point_labels,
          box: p.box,
          maskInput,
          multimaskOutput: run.multimask_output,
          returnLogits: true,
          lowResOnly: !run.tensors.masks_logits,
        });
        expect(pred.lowResLogits.shape).toEqual(run.low_res_logits_shape);
        expectClose(`${tag} iou_predictions`, pred.iouPredictions.dataSync(), fx.f32(run.tensors.iou_predictions).data);
        expectClose(`${tag} low_res_logits`, pred.lowResLogits.dataSync(), fx.f32(run.tensors.low_res_logits).data);
        if (run.tensors.masks_logits) {
          expect(pred.masks!.shape).toEqual(run.masks_shape);
          const ref = fx.f32(run.tensors.masks_logits).data;
          const got = pred.masks!.dataSync();
          expectClose(`${tag} masks_logits`, got, ref);
          expect(binaryAgreement(got, ref)).toBeGreaterThanOrEqual(0.995);
        }
        disposePrediction(pred);
      }
      maskInput?.dispose();
    }
  } finally {
    for (const e of embeddings.values()) e.dispose();
  }
}
