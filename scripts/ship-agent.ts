/**
 * Ships a trained run as the project's default agent: `alignsam export` of its final checkpoint
 * into models/default-agent/, and a model card written from the run's own files (config.yaml,
 * eval.json) plus a check on the demo page's scenes, so nothing in the card is typed by hand.
 *
 *   npm run ship:agent -- --run runs/ablate-synthetic-ppo/full-seed0 [--out models/default-agent]
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../src/backend';
import { syntheticSplit } from '../src/data/synthetic';
import { SamPromptEnv } from '../src/env/prompt/sam-prompt-env';
import { evaluate } from '../src/eval/evaluate';
import { exportRun, loadExport } from '../src/runs/export';
import { exportEnvOptions } from '../src/runs/export-env';
import { exportPolicy } from '../src/runs/predict';
import { openRunDir } from '../src/runs/run-dir';
import { EmbeddingCache } from '../src/sam/embedding-cache';
import { machineDescription } from '../src/runs/ablation-summary';
import { arg } from './cli-args';

/** The demo page's first scenes (demo/src/scenes.ts: test split of seed 0, target star). */
const DEMO_SCENES = 8;

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    n += e.isDirectory() ? folderBytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size;
  return n;
}

async function main(): Promise<void> {
  const run = arg('run', '');
  if (!run) throw new Error('give --run <run folder>');
  const out = arg('out', path.join('models', 'default-agent'));
  await initBackend('wasm');
  const { config } = openRunDir(run);
  const evalJson = JSON.parse(fs.readFileSync(path.join(run, 'eval.json'), 'utf8'));
  const manifest = await exportRun(run, out, { checkpoint: 'latest' });
  const exp = await loadExport(out);
  const cache = new EmbeddingCache(exp.sam, { maxInMemory: DEMO_SCENES });
  const scenes = syntheticSplit(
    { seed: 0, length: 1_000_000, imageSize: 128, targets: ['star'], distractors: [1, 3] },
    'test',
  );
  const env = new SamPromptEnv({ ...exportEnvOptions(exp, scenes, cache), seed: 0 });
  const demo = await evaluate(
    exportPolicy(exp),
    env,
    Array.from({ length: DEMO_SCENES }, (_, i) => ({ index: i, seed: i })),
  );
  await env.close();
  cache.clear();
  exp.dispose();
  const bytes = folderBytes(out);
  const rows = (evalJson.policies as Array<{ description: string; mean: Record<string, number> }>).map((p) => {
    const m = p.mean;
    const f = (k: string) => (m[k] === undefined ? '-' : m[k].toFixed(3));
    return `| ${p.description} | ${f('iou@1')} | ${f('iou@5')} | ${f('iou@10')} | ${f('iou@15')} | ${f('label_accuracy')} | ${f('p0_positive_in_target')} |`;
  });
  const demoIous = demo.episodes.map((e) => e.finalIou);
  const card = `# Default agent

An AlignSAM agent for the embedded default task (configs/synthetic-ppo.yaml: the micro-SAM of
models/micro-sam, 128-pixel synthetic scenes, segment the star among distractor shapes), exported by
\`alignsam export\` from a training run and used by \`alignsam predict\` and the demo page when no
other export is given. It runs with \`@tensorflow/tfjs\` alone. Written by \`npm run ship:agent\` from
the run's files; do not edit by hand.

## Files
${fs
  .readdirSync(out)
  .sort()
  .map((f) => `- \`${f}\``)
  .join('\n')}

${(bytes / 2 ** 20).toFixed(2)} MiB in all, the micro-SAM's weights included.

## Training
- Config: \`${path.basename(run)}\` of \`${config.run.dir}\`, from configs/synthetic-ppo.yaml; seed ${config.train.seed}; ${manifest.source.numTimesteps} env steps of ${config.agent.algo.toUpperCase()} with ${config.env.num_envs} envs.
- Env: ${config.env.grid_size} x ${config.env.grid_size} grid, T = ${config.env.horizon} clicks, labels from the SRM, P0 from the SRM's best and worst cells in training and at deployment; mask input ${config.env.mask_input ? 'on' : 'off'}; the agent sees the SRM's cell scores: ${config.env.observe_labeler ? 'yes' : 'no'}.
- Reward: ${config.reward.preset ?? 'custom terms'}${config.reward.terms ? ` (${config.reward.terms.map((t) => `${t.term} x ${t.weight}`).join(', ')})` : ''}.
- SRM: ${config.srm.branch}, state '${config.srm.state}', cell truth '${config.srm.cell_truth}', pre-trained on the ground truth of ${config.srm.pretrain.images} training images (${config.srm.pretrain.updates} updates), ${config.srm.q ? `then trained online (q = ${config.srm.q})` : 'not trained online (q = 0)'}.

## Deployed numbers (from the run's eval.json)
Protocol: **${evalJson.protocol}** (no ground truth in the agent's episodes), ${evalJson.episodes} validation episodes, checkpoint \`${evalJson.checkpoint}\`.

| row | mIoU@1 | mIoU@5 | mIoU@10 | mIoU@15 | label acc. | P0+ in target |
|---|---|---|---|---|---|---|
${rows.join('\n')}

## The demo page's scenes
Test-split scenes 0-${DEMO_SCENES - 1} (star), the export itself, deployed protocol: final IoU ${demoIous.map((v) => v.toFixed(2)).join(', ')};
${demoIous.filter((v) => v >= 0.5).length} of ${DEMO_SCENES} end at IoU >= 0.5. Measured on ${machineDescription()}.
`;
  fs.writeFileSync(path.join(out, 'MODEL_CARD.md'), card);
  process.stdout.write(
    `${out}: ${(bytes / 2 ** 20).toFixed(2)} MiB; demo scenes ${demoIous.map((v) => v.toFixed(2)).join(' ')}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
});
