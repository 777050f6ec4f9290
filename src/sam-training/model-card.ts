/** MODEL_CARD.md for an exported micro-SAM, from measured training and evaluation numbers. */
import type { SyntheticConfig } from '../data/synthetic';
import { SamConfig, lowResMaskSize, samConfigToJson } from '../sam/config';
import { writeTextAtomic } from './checkpoint-io';

export interface ModelCardInputs {
  config: SamConfig;
  data: SyntheticConfig;
  training: Record<string, unknown>;
  evaluation: { split: string; scenes: number; miouAtClick: number[]; seconds: number };
  weightsBytes: number;
}

export function modelCardText(m: ModelCardInputs): string {
  const t = m.training as { producer?: string; notes?: string };
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
- \`training.json\`: the run's producer, device, options, loss/IoU history and this evaluation.

## Architecture
\`\`\`json
${JSON.stringify(samConfigToJson(m.config), null, 2)}
\`\`\`

## Data
Synthetic scenes (\`src/data/synthetic.ts\`), config \`${JSON.stringify(m.data)}\`: eight shape
categories as targets with flat, gradient, stripe, checker and noise textures, one to three
distractors, ${String((m.data as { imageSize?: number }).imageSize ?? 128)} px. Training reads the \`train\` split; evaluation the disjoint \`test\` split.

${t.producer === 'pytorch-twin' ? twinTraining(m) : tfjsTraining(m)}${finetuneSections(m)}
## Evaluation
Oracle clicker (\`nextOracleClick\`: the deepest pixel of the largest error region of the full-size
prediction), clicks accumulated, previous low-res logits as mask input, click 1 keeps the mask with
the highest predicted IoU. ${m.evaluation.scenes} scenes of the \`${m.evaluation.split}\` split:

| clicks | 1 | 3 | 5 |
|---|---|---|---|
| mIoU | ${at(1)} | ${at(3)} | ${at(5)} |

mIoU after each click 1..${miou.length}: ${miou.map((v) => v.toFixed(3)).join(', ')}.
Measured with \`npm run train:micro-sam -- --eval-only\` (${m.evaluation.seconds.toFixed(0)} s).
${t.notes ? `\n## Notes\n${t.notes}\n` : ''}`;
}

export async function writeModelCard(filePath: string, m: ModelCardInputs): Promise<void> {
  await writeTextAtomic(filePath, modelCardText(m));
}

/** The CPU path: scripts/train-micro-sam.ts with tfjs. */
function tfjsTraining(m: ModelCardInputs): string {
  const t = m.training as { steps?: number; trainingSeconds?: number; options?: Record<string, unknown> };
  const o = t.options ?? {};
  const inputSize = m.config.imageEncoder.imgSize;
  const low = lowResMaskSize(m.config);
  return `## Training (\`npm run train:micro-sam\`)
As SAM (Kirillov et al. 2023, appendix A), scaled down; encoder and decoder trained together from
random weights. Each step takes ${String(o.images ?? 1)} training images (resized to the ${inputSize} px input as the
predictor does) and encodes each once; on each encoding ${String(o.promptSets ?? 1)} independent prompt chains of
${String(o.iterations ?? '?')} rounds are decoded together, one \`decode\` call per round. Round 1 of a chain is a
random foreground point (three masks, the loss on the lowest-loss one) or, with probability
${String(o.boxProb ?? '?')}, a noisy ground-truth box; each later round adds a corrective click in the error region
(the oracle's click with probability ${String(o.oracleProb ?? '?')}, else a uniform error pixel) with the previous
low-res logits as mask input. Loss per decoded prompt set: ${String(o.focalWeight ?? 20)} focal (gamma 2, alpha
${String(o.focalAlpha ?? 0.25)}) + ${String(o.diceWeight ?? 1)} Dice on the ${low} x ${low} low-res logits against the pooled ground truth, plus the
MSE between predicted and actual IoU; mean over the step's prompt sets. AdamW (weight decay on
matrices), peak rate ${String(o.lr ?? '?')} after ${String(o.warmup ?? '?')} warm-up steps, cosine decay, gradient norm clipped to 1.

Steps: ${t.steps ?? '?'}${o.steps !== undefined && o.steps !== t.steps ? ` (an export of a run whose cosine schedule spans ${String(o.steps)} steps)` : ''}; training time: ${t.trainingSeconds !== undefined ? (t.trainingSeconds / 60).toFixed(1) : '?'} minutes
(wasm backend, single-threaded).

`;
}

/** The GPU path: the PyTorch twin of src/sam (scripts/micro-sam-torch/train.py). */
function twinTraining(m: ModelCardInputs): string {
  const t = m.training as {
    steps?: number;
    trainingSeconds?: number;
    trainScenes?: number;
    device?: string;
    torch?: string;
    options?: Record<string, unknown>;
    twinEvaluation?: { scenes: number; miou_at_click: number[] };
  };
  const o = t.options ?? {};
  const low = lowResMaskSize(m.config);
  const twin = t.twinEvaluation;
  return `## Training (\`bash scripts/micro-sam-torch/train-on-gpu.sh\`)
On a GPU, by the PyTorch twin of the project's SAM (\`scripts/micro-sam-torch/sam_twin.py\`: the
same architecture with the official tensor names; \`test/sam-training/torch-twin.test.ts\` holds it
to \`src/sam\` within the SAM parity tolerance). The tfjs trainer (\`npm run train:micro-sam\`)
trains the same architecture on the CPU, but reached only mIoU@3 0.23 in 50 minutes with an
earlier 64 px geometry; the GPU run below is what made a model that segments.

As SAM (Kirillov et al. 2023, appendix A), scaled down; encoder and decoder trained together from
random weights (PyTorch's default initialisation). Data: ${String(t.trainScenes ?? '?')} scenes of the \`train\` split, dumped by
\`scripts/dump-synthetic-scenes.ts\` (the project's own generator), a random symmetry of the square
per batch. Each step: ${String(o.batch ?? '?')} images, each encoded once; ${String(o.objects_per_image ?? '?')} objects per image, drawn among the
scene's objects with at least ${String(o.min_pixels ?? '?')} visible pixels (targets and distractors alike: SAM is
class-agnostic, and a different object on the same image forces the model to read the click). Each
object gets a chain of ${String(o.rounds ?? '?')} rounds decoded for all prompt sets at once. Round 1 is a uniformly random
foreground point (three masks, the loss on the lowest-loss one) or, for a fraction ${String(o.box_prob ?? '?')} of the
batches, a ground-truth box jittered by 10% of its side (one mask). Each later round adds a
corrective click in the error region (with probability ${String(o.oracle_prob ?? '?')} the error pixel farthest from
the region's edge, as the oracle clicks, else a uniform error pixel), with the previous round's
low-res logits (${low} x ${low}) as mask input. Loss per prompt set and round: BCE + Dice on the full-size
mask logits (SAM's post-processing) and the MSE between predicted and actual IoU for every output
mask; mean over rounds. SAM weights focal 20 : Dice 1; on this data that mix collapsed to empty
masks in the project's CPU runs, so BCE + Dice is used instead. AdamW (betas 0.9, 0.99; weight
decay ${String(o.weight_decay ?? '?')} on weight matrices and kernels, none on biases, norms, positional tables and
embeddings), peak rate ${String(o.lr ?? '?')} after ${String(o.warmup ?? '?')} warm-up steps, cosine decay to 2% over the time budget,
gradient norm clipped to ${String(o.clip ?? '?')}.

Steps: ${String(t.steps ?? '?')} in ${t.trainingSeconds !== undefined ? (t.trainingSeconds / 60).toFixed(1) : '?'} minutes on one ${String(t.device ?? '?')} (torch ${String(t.torch ?? '?')}); \`training.json\`
has the loss and IoU curves.
${
  twin
    ? `The twin's own quick evaluation (scipy's connected components and distance transform standing in
for the project's oracle) on ${twin.scenes} test scenes: mIoU@1..${twin.miou_at_click.length} ${twin.miou_at_click.map((v) => v.toFixed(3)).join(', ')}.
`
    : ''
}`;
}

interface FinetuneRecord {
  command?: string;
  encoderTrained?: boolean;
  device?: string;
  threads?: number;
  torch?: string;
  steps?: number;
  trainingSeconds?: number;
  trainScenes?: number;
  options?: Record<string, unknown>;
  valBefore?: Record<string, number | number[]>;
  valAfter?: Record<string, number | number[]>;
}

/** The fine-tunings for the env's click chains (scripts/micro-sam-torch/finetune_clicks.py), in order. */
function finetuneSections(m: ModelCardInputs): string {
  const t = m.training as { finetune?: FinetuneRecord; finetunes?: FinetuneRecord[] };
  const all = t.finetunes ?? (t.finetune ? [t.finetune] : []);
  return all.map((f, i) => finetuneSection(f, all.length > 1 ? i + 1 : 0)).join('\n');
}

function finetuneSection(f: FinetuneRecord, stage: number): string {
  const o = f.options ?? {};
  const curve = (c: number | number[] | undefined) => (Array.isArray(c) ? c : undefined);
  const row = (name: string, label: string) => {
    const before = curve(f.valBefore?.[name]);
    const after = curve(f.valAfter?.[name]);
    if (!before || !after) return '';
    const at = (c: number[], k: number) => (c.length > k ? c[k].toFixed(3) : 'n/a');
    return `| ${label} | ${[0, 1, 5, 10, 15].map((k) => `${at(before, k)} -> ${at(after, k)}`).join(' | ')} |\n`;
  };
  const categoryWeight = Number(o.category_loss ?? 0);
  const categoryAcc = f.valAfter?.category_acc;
  const what = f.encoderTrained
    ? `The whole model was fine-tuned for that, by the PyTorch twin on the CPU, the image encoder at
${String(o.encoder_lr_scale ?? '?')} times the decoder's rate${
        categoryWeight > 0
          ? `, with an auxiliary loss (weight ${categoryWeight}): a linear head on the image embedding
predicts, per embedding cell, the fraction of its pixels of each shape category and of the
background (soft cross-entropy), and is dropped at export. The micro-SAM is class-agnostic and knows
eight shapes; real SAM features carry far richer semantics, which a recalibration module reading
the embedding relies on to tell a target from a distractor. The head's loss stands in for them.${
              typeof categoryAcc === 'number'
                ? ` On the \`val\` split the head names a cell's largest class for ${(100 * categoryAcc).toFixed(1)}% of cells.`
                : ''
            }`
          : '.'
      } Every image embedding changes: caches are keyed on the weights and recomputed, and SRMs or
agents trained on the earlier embeddings must be trained again.`
    : `The prompt encoder and mask decoder were fine-tuned for that, by the PyTorch twin
on the CPU; the image encoder is frozen (so image embeddings, and everything cached or trained on
them, are unchanged; the import checks it).`;
  return `## ${stage ? `Fine-tuning ${stage}` : 'Fine-tuning'} for click chains (\`${f.command ?? 'bash scripts/micro-sam-torch/finetune-on-cpu.sh'}\`)
The prompting env asks more of SAM than pre-training did: up to ${String(o.rounds ?? '?')} clicks after P0, on grid-cell
centres chosen by a policy rather than at error pixels, labelled by a learned module that is
sometimes wrong. ${what} Each chain starts from the env's P0 (a positive and a
negative cell centre; for a fraction ${String(o.p0_miss ?? '?')} of chains the positive cell misses the object) or, for a
fraction ${o.env_like !== undefined ? (1 - Number(o.env_like)).toFixed(1) : '?'} of the steps, from one positive pixel with three masks as in pre-training. Then ${String(o.rounds ?? '?')}
clicks on unclicked cell centres of a G x G grid, G drawn per chain from ${Array.isArray(o.grids) ? (o.grids as number[]).join(', ') : '?'}, one policy per chain (probabilities ${Array.isArray(o.policy_probs) ? (o.policy_probs as number[]).join(', ') : '?'}:
the cell of the deepest error pixel, a uniform cell, a cell near the object), each labelled by the
ground truth at the cell centre and flipped with probability ${String(o.label_noise ?? '?')}; the loss still asks for
the true object. Previous low-res logits as mask input. Loss: BCE + Dice on the full-size mask and
the IoU head's MSE, on P0's decode and ${String(Number(o.train_rounds ?? 1) - 1)} random later decodes per chain (the others run
without gradients). Objects: the scene's target with probability ${String(o.target_prob ?? '?')}, else any object with at
least ${String(o.min_pixels ?? '?')} pixels. AdamW, peak rate ${String(o.lr ?? '?')}, ${String(o.warmup ?? '?')} warm-up steps, cosine decay to 10%.
${String(f.steps ?? '?')} steps of ${String(o.images ?? '?')} images x ${String(o.objects_per_image ?? '?')} chains from ${String(f.trainScenes ?? '?')} train scenes, ${f.trainingSeconds !== undefined ? (f.trainingSeconds / 60).toFixed(1) : '?'} minutes on ${String(f.threads ?? '?')} CPU threads (torch ${String(f.torch ?? '?')}).

The twin's check on the \`val\` split's targets (env-like P0 from the ground truth, a 16 x 16 grid,
true labels), mIoU before -> after, after P0 and after 1, 5, 10 and 15 clicks:

| clicks | P0 | 1 | 5 | 10 | 15 |
|---|---|---|---|---|---|
${row('oracle', 'oracle cells')}${row('random', 'random cells')}${row('near', 'cells near the object')}${row('oracle_p0_miss', 'oracle cells, P0+ misses')}
`;
}
