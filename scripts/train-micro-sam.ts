/**
 * Train the micro-SAM (the project's SAM architecture at a small size) on the synthetic scenes,
 * the way SAM was trained: simulated prompts, corrective clicks, focal + Dice mask loss and an
 * IoU-head MSE. Resumes from its work folder when interrupted; exports the model to `--out`
 * (weights.safetensors + config.json) every `--export-every` steps and at the end, then evaluates
 * it with the oracle clicker on the held-out test split and writes MODEL_CARD.md.
 *
 *   npm run train:micro-sam                       # train with tfjs on the CPU (slow)
 *   npm run train:micro-sam -- --eval-only        # re-measure models/micro-sam
 *   npm run train:micro-sam -- --print-config     # the architecture as config.json
 *   npm run train:micro-sam -- --import-twin DIR  # adopt a GPU run of the PyTorch twin
 *
 * The committed weights come from the PyTorch twin on a GPU (scripts/micro-sam-torch/train-on-gpu.sh
 * runs the whole pipeline and ends with --import-twin); this tfjs trainer is the CPU path.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { initBackend } from '../src/backend';
import { syntheticSplit } from '../src/data/synthetic';
import { loadSam } from '../src/sam/pretrained';
import { samConfigToJson } from '../src/sam/config';
import { writeAll, writeFileAtomic } from '../src/io/atomic-file';
import { parseSafetensors, readSafetensors } from '../src/io/safetensors';
import { randomSamWeights } from '../src/sam/weights/random-weights';
import { samVariables } from '../src/sam/weights/variables';
import {
  exportSamModel,
  loadTrainingState,
  saveTrainingState,
  writeTextAtomic,
  type TrainingState,
} from '../src/sam-training/checkpoint-io';
import { MICRO_SAM_DATA, microSamConfig } from '../src/sam-training/micro-sam-config';
import { writeModelCard } from '../src/sam-training/model-card';
import { Adam } from '../src/nn/adam';
import { oracleClickEval } from '../src/sam-training/oracle-eval';
import { prepareTrainSample, trainStep, type TrainSample } from '../src/sam-training/train-step';
import { Rng } from '../src/utils/rng';

const argv = yargs(hideBin(process.argv))
  .option('steps', { type: 'number', default: 2000, describe: 'training steps (may be changed on resume)' })
  .option('images', { type: 'number', default: 2, describe: 'images per step (each encoded once)' })
  .option('prompt-sets', {
    type: 'number',
    default: 2,
    describe: 'independent prompt chains per image, decoded together',
  })
  .option('out', { type: 'string', default: 'models/micro-sam', describe: 'export folder' })
  .option('work', { type: 'string', default: '.cache/micro-sam-train', describe: 'resumable training state' })
  .option('seed', { type: 'number', default: 0 })
  .option('lr', { type: 'number', default: 1e-3, describe: 'peak learning rate' })
  .option('warmup', { type: 'number', default: 40, describe: 'linear warm-up steps' })
  .option('min-lr-ratio', {
    type: 'number',
    default: 0.05,
    describe: 'final rate as a fraction of the peak (cosine decay)',
  })
  .option('weight-decay', { type: 'number', default: 0.01 })
  .option('iterations', { type: 'number', default: 3, describe: 'prompting rounds per chain (1 + corrective clicks)' })
  .option('box-prob', { type: 'number', default: 0.2 })
  .option('oracle-prob', { type: 'number', default: 0.5 })
  .option('clip', { type: 'number', default: 1 })
  .option('focal-alpha', {
    type: 'number',
    default: 0.75,
    describe:
      'focal loss alpha, the weight of foreground pixels (SAM: 0.25; 0.25 and 0.5 collapsed to empty masks here)',
  })
  .option('focal-weight', { type: 'number', default: 1, describe: 'focal term weight (SAM: 20)' })
  .option('dice-weight', { type: 'number', default: 1, describe: 'Dice term weight (SAM: 1)' })
  .option('log-every', { type: 'number', default: 10 })
  .option('save-every', { type: 'number', default: 50 })
  .option('export-every', { type: 'number', default: 100 })
  .option('eval-scenes', { type: 'number', default: 100, describe: 'held-out test scenes for the final evaluation' })
  .option('eval-only', { type: 'boolean', default: false })
  .option('print-config', { type: 'boolean', default: false, describe: 'print the micro-SAM config.json and exit' })
  .option('import-twin', {
    type: 'string',
    describe:
      'folder written by scripts/micro-sam-torch/train.py: copy its model to --out, then evaluate and write the card',
  })
  .option('import-finetune', {
    type: 'string',
    describe:
      'folder written by scripts/micro-sam-torch/finetune_clicks.py: copy its model to --out, keep the earlier records, add the fine-tuning one, evaluate and write the card',
  })
  .option('finetune-command', {
    type: 'string',
    default: 'bash scripts/micro-sam-torch/finetune-on-cpu.sh',
    describe: 'the command that made the --import-finetune folder, for the model card',
  })
  .option('fresh', { type: 'boolean', default: false, describe: 'ignore saved state in --work' })
  .strict()
  .parseSync();

function learningRate(step: number): number {
  if (step < argv.warmup) return (argv.lr * (step + 1)) / argv.warmup;
  const t = Math.min(1, (step - argv.warmup) / Math.max(1, argv.steps - argv.warmup));
  return argv.lr * (argv['min-lr-ratio'] + (1 - argv['min-lr-ratio']) * 0.5 * (1 + Math.cos(Math.PI * t)));
}

function fmtTime(s: number): string {
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}

async function evaluateAndWriteCard(trainInfo: Record<string, unknown> | null): Promise<void> {
  const weightsPath = path.join(argv.out, 'weights.safetensors');
  const model = await loadSam(weightsPath);
  const test = syntheticSplit({ ...MICRO_SAM_DATA, length: argv['eval-scenes'] }, 'test');
  const t0 = Date.now();
  const res = await oracleClickEval(model, test, argv['eval-scenes'], 5);
  const evalSeconds = (Date.now() - t0) / 1000;
  console.log(
    `test mIoU@1..5 (${res.scenes} scenes): ${res.miouAtClick.map((v) => v.toFixed(3)).join(' ')}  [${evalSeconds.toFixed(0)} s]`,
  );
  const infoPath = path.join(argv.out, 'training.json');
  let info = trainInfo;
  if (!info) info = JSON.parse(await fsp.readFile(infoPath, 'utf8').catch(() => '{}'));
  const evaluation = { split: 'test', scenes: res.scenes, miouAtClick: res.miouAtClick, seconds: evalSeconds };
  await writeTextAtomic(infoPath, JSON.stringify({ ...info, evaluation }, null, 1) + '\n');
  const stat = await fsp.stat(weightsPath);
  await writeModelCard(path.join(argv.out, 'MODEL_CARD.md'), {
    config: model.config,
    data: MICRO_SAM_DATA,
    training: info ?? {},
    evaluation,
    weightsBytes: stat.size,
  });
  model.dispose();
}

/**
 * Adopt the PyTorch twin's output: check that its config is the micro-SAM's, copy the weights,
 * and turn its training.json into the card's (camelCase, producer and device recorded).
 */
/**
 * What a PyTorch twin script wrote into `dir`: its training record and weight bytes, after checking
 * that its config is the micro-SAM's. `flag` names the option in errors.
 */
async function readTwinOutput(
  dir: string,
  flag: string,
): Promise<{ training: ReturnType<typeof JSON.parse>; weights: Buffer }> {
  const read = async (name: string) => {
    const file = path.join(dir, name);
    try {
      return await fsp.readFile(file);
    } catch {
      throw new Error(`${flag}: ${file} is missing`);
    }
  };
  const twinConfig = JSON.parse((await read('config.json')).toString('utf8'));
  if (JSON.stringify(twinConfig) !== JSON.stringify(samConfigToJson(microSamConfig())))
    throw new Error(
      `${flag}: ${path.join(dir, 'config.json')} is not the micro-SAM config (npm run train:micro-sam -- --print-config)`,
    );
  const training = JSON.parse((await read('training.json')).toString('utf8'));
  return { training, weights: await read('weights.safetensors') };
}

async function importTwin(dir: string): Promise<Record<string, unknown>> {
  const { training: t, weights } = await readTwinOutput(dir, '--import-twin');
  const expected = samConfigToJson(microSamConfig());
  await fsp.mkdir(argv.out, { recursive: true });
  await writeFileAtomic(path.join(argv.out, 'weights.safetensors'), (h) => writeAll(h, weights));
  await writeTextAtomic(path.join(argv.out, 'config.json'), JSON.stringify(expected, null, 2) + '\n');
  const o = t.options ?? {};
  const info: Record<string, unknown> = {
    producer: 'pytorch-twin',
    command: 'bash scripts/micro-sam-torch/train-on-gpu.sh',
    device: t.device,
    torch: t.torch,
    steps: t.steps,
    trainingSeconds: t.training_seconds,
    trainScenes: t.scenes,
    options: Object.fromEntries(
      [
        'seed',
        'seconds',
        'steps',
        'batch',
        'objects_per_image',
        'rounds',
        'box_prob',
        'oracle_prob',
        'min_pixels',
        'lr',
        'warmup',
        'weight_decay',
        'iou_weight',
        'clip',
      ].map((k) => [k, o[k]]),
    ),
    history: t.history,
    twinEvaluation: t.twin_evaluation,
  };
  await writeTextAtomic(path.join(argv.out, 'training.json'), JSON.stringify(info, null, 1) + '\n');
  console.log(`imported ${dir} (${String(t.steps)} steps on ${String(t.device)}) into ${argv.out}`);
  return info;
}

/**
 * Adopt a fine-tuning of the model in --out. A fine-tuning that did not declare it trained the
 * image encoder must leave it bit for bit as it is (caches and SRMs keyed on embeddings depend on
 * that); one that did changes every embedding, and its record says so. Earlier records stay and
 * this one is added after them.
 */
async function importFinetune(dir: string): Promise<Record<string, unknown>> {
  const { training: t, weights } = await readTwinOutput(dir, '--import-finetune');
  const weightsFile = path.join(dir, 'weights.safetensors');
  const current = (await readSafetensors(path.join(argv.out, 'weights.safetensors'))).tensors;
  const tuned = parseSafetensors(weights, weightsFile).tensors;
  const changed = [...current.keys()].filter((name) => {
    if (!name.startsWith('image_encoder.')) return false;
    const a = current.get(name)!.data;
    const b = tuned.get(name)?.data;
    return !b || a.length !== b.length || a.some((v, i) => v !== b[i]);
  });
  const encoderTrained = t.encoder_trained === true;
  if (changed.length && !encoderTrained)
    throw new Error(
      `--import-finetune: ${weightsFile} changes the image encoder (${changed[0]}${changed.length > 1 ? ` and ${changed.length - 1} more` : ''}) but ${path.join(dir, 'training.json')} does not say it trained it (encoder_trained)`,
    );
  const previous = JSON.parse(await fsp.readFile(path.join(argv.out, 'training.json'), 'utf8'));
  const { evaluation: _stale, finetune: legacy, finetunes: earlier, ...pretraining } = previous;
  const finetune = {
    command: argv['finetune-command'],
    encoderTrained,
    device: t.device,
    threads: t.threads,
    torch: t.torch,
    steps: t.steps,
    trainingSeconds: t.training_seconds,
    trainScenes: t.scenes,
    options: t.options,
    history: t.history,
    valBefore: t.val_before,
    valAfter: t.val_after,
  };
  const finetunes = [...(earlier ?? (legacy ? [legacy] : [])), finetune];
  await writeFileAtomic(path.join(argv.out, 'weights.safetensors'), (h) => writeAll(h, weights));
  const info = { ...pretraining, finetunes };
  await writeTextAtomic(path.join(argv.out, 'training.json'), JSON.stringify(info, null, 1) + '\n');
  console.log(`imported the fine-tuning in ${dir} (${String(t.steps)} steps) into ${argv.out}`);
  return info;
}

async function main(): Promise<void> {
  if (argv['print-config']) {
    console.log(JSON.stringify(samConfigToJson(microSamConfig()), null, 2));
    return;
  }
  await initBackend('wasm');
  if (argv['import-twin']) return evaluateAndWriteCard(await importTwin(argv['import-twin']));
  if (argv['import-finetune']) return evaluateAndWriteCard(await importFinetune(argv['import-finetune']));
  if (argv['eval-only']) return evaluateAndWriteCard(null);
  const config = microSamConfig();
  const vars = samVariables(config, randomSamWeights(config, argv.seed));
  const optimizer = new Adam(vars, { weightDecay: argv['weight-decay'] });
  const options = {
    steps: argv.steps,
    seed: argv.seed,
    images: argv.images,
    promptSets: argv['prompt-sets'],
    lr: argv.lr,
    warmup: argv.warmup,
    iterations: argv.iterations,
    boxProb: argv['box-prob'],
    oracleProb: argv['oracle-prob'],
    focalAlpha: argv['focal-alpha'],
    focalWeight: argv['focal-weight'],
    diceWeight: argv['dice-weight'],
  };
  const rng = new Rng(argv.seed);
  let state: TrainingState = { step: 0, rng: rng.getState(), elapsedSeconds: 0, options, history: [] };
  if (!argv.fresh) {
    const saved = await loadTrainingState(argv.work, vars, optimizer);
    if (saved) {
      // --steps may change on resume (to shorten or extend a run: the cosine schedule follows the
      // new total from the current step on); every other option must match.
      const { steps: _savedSteps, ...savedRest } = saved.options as Record<string, unknown>;
      const { steps: _steps, ...rest } = options;
      if (JSON.stringify(savedRest) !== JSON.stringify(rest))
        throw new Error(
          `${argv.work}/state.json: saved options ${JSON.stringify(saved.options)} differ from ${JSON.stringify(options)} (use --fresh)`,
        );
      if (_savedSteps !== _steps)
        console.log(`resuming with --steps ${_steps} (the run started with ${String(_savedSteps)})`);
      state = { ...saved, options };
      rng.setState(saved.rng);
      console.log(`resumed from ${argv.work} at step ${state.step}`);
    }
  }
  const train = syntheticSplit(MICRO_SAM_DATA, 'train');
  let params = 0;
  for (const v of vars.values()) params += v.size;
  console.log(
    `micro-SAM: ${params} parameters (${((params * 4) / 2 ** 20).toFixed(2)} MiB float32), ${argv.steps} steps of ${argv.images} images x ${argv['prompt-sets']} prompt chains x ${argv.iterations} rounds`,
  );
  const started = Date.now() - state.elapsedSeconds * 1000;
  const window: Array<{ loss: number; ious: number[] }> = [];
  let sessionStart = Date.now();
  let sessionSteps = 0;
  while (state.step < argv.steps) {
    const samples: TrainSample[] = [];
    while (samples.length < argv.images) {
      const sample = await train.get(rng.int(train.length));
      // A target too small to survive pooling to the low-res frame is skipped.
      try {
        samples.push(prepareTrainSample(config, sample.image, sample.mask));
      } catch (err) {
        if (!String(err).includes('empty at the low-res frame')) throw err;
      }
    }
    const lr = learningRate(state.step);
    const r = trainStep(config, vars, optimizer, samples, rng, {
      iterations: argv.iterations,
      promptSets: argv['prompt-sets'],
      focalWeight: argv['focal-weight'],
      diceWeight: argv['dice-weight'],
      boxProb: argv['box-prob'],
      oracleProb: argv['oracle-prob'],
      learningRate: lr,
      clipNorm: argv.clip,
      focalAlpha: argv['focal-alpha'],
    });
    state.step++;
    sessionSteps++;
    window.push({ loss: r.loss, ious: r.roundIous });
    if (window.length > 50) window.shift();
    if (state.step % argv['log-every'] === 0 || state.step === argv.steps) {
      const rate = sessionSteps / ((Date.now() - sessionStart) / 1000);
      const meanLoss = window.reduce((s, w) => s + w.loss, 0) / window.length;
      const rounds = Array.from(
        { length: argv.iterations },
        (_, k) => window.reduce((s, w) => s + w.ious[k], 0) / window.length,
      );
      const elapsed = (Date.now() - started) / 1000;
      console.log(
        `step ${state.step}/${argv.steps}  ${rate.toFixed(2)} step/s  elapsed ${fmtTime(elapsed)}  ETA ${fmtTime((argv.steps - state.step) / rate)}  lr ${lr.toExponential(2)}  loss ${meanLoss.toFixed(3)}  IoU/round ${rounds.map((v) => v.toFixed(3)).join(' ')}  |g| ${r.gradNorm.toFixed(2)}  tensors ${tf.memory().numTensors}`,
      );
      state.history.push({
        step: state.step,
        loss: meanLoss,
        ...Object.fromEntries(rounds.map((v, k) => [`iou_round${k + 1}`, v])),
      });
    }
    const done = state.step === argv.steps;
    if (state.step % argv['save-every'] === 0 || done) {
      state.rng = rng.getState();
      state.elapsedSeconds = (Date.now() - started) / 1000;
      await saveTrainingState(argv.work, vars, optimizer, state);
    }
    if (state.step % argv['export-every'] === 0 || done) {
      const trainInfo = {
        steps: state.step,
        trainingSeconds: (Date.now() - started) / 1000,
        options,
        command: 'npm run train:micro-sam',
        history: state.history,
      };
      await exportSamModel(argv.out, config, vars, { format: 'micro-sam', step: String(state.step) });
      await writeTextAtomic(path.join(argv.out, 'training.json'), JSON.stringify(trainInfo, null, 1) + '\n');
      console.log(`exported ${argv.out} at step ${state.step}`);
      if (done) await evaluateAndWriteCard(trainInfo);
      sessionStart = Date.now();
      sessionSteps = 0;
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
