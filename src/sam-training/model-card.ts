/** MODEL_CARD.md for an exported micro-SAM, from measured training and evaluation numbers. */
import type { SyntheticConfig } from '../data/synthetic';
import { SamConfig, samConfigToJson } from '../sam/config';
import { writeTextAtomic } from './checkpoint-io';

export interface ModelCardInputs {
  config: SamConfig;
  data: SyntheticConfig;
  training: Record<string, unknown>;
  evaluation: { split: string; scenes: number; miouAtClick: number[]; seconds: number };
  weightsBytes: number;
}

export function modelCardText(m: ModelCardInputs): string {
  const t = m.training as { steps?: number; trainingSeconds?: number; options?: Record<string, unknown> };
  const miou = m.evaluation.miouAtClick;
  const at = (k: number) => (miou.length >= k ? miou[k - 1].toFixed(3) : 'n/a');
  return `# micro-SAM

A small model of the Segment Anything architecture (the project's \`src/sam\` code), trained from
random weights by this project on its synthetic scenes, so that the default pipeline runs with no
download. It is not the official SAM and knows nothing beyond these scenes.

**Status: ${(miou[2] ?? 0) >= 0.8 ? 'meets' : 'does NOT meet'} the project's target of mIoU >= 0.80 at 3 oracle clicks (measured ${at(3)}).**

## Files
- \`weights.safetensors\`: ${(m.weightsBytes / 2 ** 20).toFixed(2)} MiB, float32, official SAM tensor names.
- \`config.json\`: the architecture, read by \`loadSam('models/micro-sam/weights.safetensors')\`.
- \`training.json\`: the run's options, loss/IoU history and this evaluation.

## Architecture
\`\`\`json
${JSON.stringify(samConfigToJson(m.config), null, 2)}
\`\`\`

## Data
Synthetic scenes (\`src/data/synthetic.ts\`), config \`${JSON.stringify(m.data)}\`: eight shape
categories as targets with flat, gradient, stripe, checker and noise textures, one to three
distractors. Training reads the \`train\` split; evaluation the disjoint \`test\` split.

## Training (\`npm run train:micro-sam\`)
As SAM (Kirillov et al. 2023, appendix A), scaled down: one image per step, encoder and decoder
trained together. Per image, ${String(t.options?.iterations ?? '?')} prompting rounds on one encoding: a
random foreground point (three masks, loss on the lowest-loss one) or with probability
${String(t.options?.boxProb ?? '?')} a noisy ground-truth box; then corrective clicks in the error region
(the oracle's click with probability ${String(t.options?.oracleProb ?? '?')}, else a uniform error pixel),
with the previous low-res logits as mask input. Loss: 20 focal (gamma 2, alpha
${String(t.options?.focalAlpha ?? 0.25)}) + 1 Dice on the 64 x 64 low-res logits against the pooled ground truth, plus the
MSE between predicted and actual IoU. (A first run with SAM's alpha 0.25 collapsed to empty masks
within 100 steps at one image per step; 0.5, which weighs both classes alike, collapsed too.) AdamW
(weight decay on matrices), peak rate ${String(t.options?.lr ?? '?')} with linear warm-up and cosine decay, gradient norm
clipped to 1.

Steps: ${t.steps ?? '?'}; training time: ${t.trainingSeconds !== undefined ? (t.trainingSeconds / 60).toFixed(1) : '?'} minutes
(wasm backend, 2 shared CPU cores).

## Evaluation
Oracle clicker (\`nextOracleClick\`: the deepest pixel of the largest error region of the full-size
prediction), clicks accumulated, previous low-res logits as mask input, click 1 keeps the mask with
the highest predicted IoU. ${m.evaluation.scenes} scenes of the \`${m.evaluation.split}\` split:

| clicks | 1 | 3 | 5 |
|---|---|---|---|
| mIoU | ${at(1)} | ${at(3)} | ${at(5)} |

mIoU after each click 1..${miou.length}: ${miou.map((v) => v.toFixed(3)).join(', ')}.
Measured with \`npm run train:micro-sam -- --eval-only\` (${m.evaluation.seconds.toFixed(0)} s).
`;
}

export async function writeModelCard(filePath: string, m: ModelCardInputs): Promise<void> {
  await writeTextAtomic(filePath, modelCardText(m));
}
