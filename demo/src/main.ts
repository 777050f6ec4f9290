/**
 * The demo page: load an exported agent, pick a synthetic scene or drop an image, type a target,
 * and watch the agent click and SAM segment, one step at a time.
 *
 * URL parameters: `export` (folder URL of an `alignsam export`, default `export/`), `backend`
 * (wasm, webgl or cpu; default wasm), `delay` (ms between steps when playing), `scene` (index).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { SHAPE_NAMES, type ShapeName } from '../../src/data/synthetic/shapes';
import { loadSimdKernels } from '../../src/tfjs-ops/simd/simd-module';
import { warmUpSimdKernels } from '../../src/tfjs-ops/simd/warm-up';
import type { RgbImage } from '../../src/data/types';
import { drawMask, drawView } from './draw';
import { DemoEpisode, type DemoStepView } from './episode';
import { rgbImageFromBlob } from './image-input';
import { loadBrowserExport, type BrowserExport } from './load-export';
import { PageEmbeddings } from './page-embeddings';
import { demoScenes } from './scenes';

const BACKENDS = ['wasm', 'webgl', 'cpu'] as const;
type Backend = (typeof BACKENDS)[number];

interface CurrentImage {
  image: RgbImage;
  /** Scene ground truth (for IoU), only for synthetic scenes. */
  groundTruth: Uint8Array | null;
  /** The scene's target name, when the image is a scene. */
  sceneTarget: string | null;
  description: string;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: element #${id} missing`);
  return el as T;
};

const ui = {
  exportInfo: $('export-info'),
  backend: $<HTMLSelectElement>('backend'),
  backendInfo: $('backend-info'),
  sceneIndex: $<HTMLInputElement>('scene-index'),
  sceneShape: $<HTMLSelectElement>('scene-shape'),
  sceneRandom: $<HTMLButtonElement>('scene-random'),
  dropzone: $('dropzone'),
  file: $<HTMLInputElement>('file'),
  imageInfo: $('image-info'),
  target: $<HTMLInputElement>('target'),
  knownTargets: $('known-targets'),
  targetInfo: $('target-info'),
  run: $<HTMLButtonElement>('run'),
  step: $<HTMLButtonElement>('step'),
  reset: $<HTMLButtonElement>('reset'),
  delay: $<HTMLInputElement>('delay'),
  delayValue: $('delay-value'),
  status: $('status'),
  view: $<HTMLCanvasElement>('view'),
  mask: $<HTMLCanvasElement>('mask'),
  stepCount: $('step-count'),
  maskArea: $('mask-area'),
  iou: $('iou'),
  steps: document.querySelector('#steps tbody') as HTMLTableSectionElement,
};

const params = new URLSearchParams(location.search);
let exp: BrowserExport | null = null;
let embeddings: PageEmbeddings | null = null;
let current: CurrentImage | null = null;
let episode: DemoEpisode | null = null;
let busy = false;
let stopRequested = false;

function setStatus(state: 'loading' | 'ready' | 'running' | 'done' | 'error', text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function setBusy(b: boolean): void {
  busy = b;
  for (const el of [ui.step, ui.reset, ui.sceneRandom, ui.sceneIndex, ui.sceneShape, ui.file, ui.target, ui.backend])
    el.disabled = b;
  ui.run.textContent = b ? 'Stop' : 'Predict';
  ui.run.disabled = !exp;
}

async function initBackend(wanted: Backend): Promise<string> {
  setWasmPaths(new URL('wasm/', location.href).href);
  for (const name of [wanted, ...BACKENDS.filter((b) => b !== wanted)]) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        // The project's SIMD kernels (products, attention, layer norm, GELU, softmaxes; relaxed-SIMD
        // build where the browser has it); without them the tf-op forms run.
        if (name === 'wasm' && (await loadSimdKernels().catch(() => false))) warmUpSimdKernels();
        return tf.getBackend();
      }
    } catch {
      // try the next backend
    }
  }
  throw new Error('no TensorFlow.js backend could start in this browser');
}

// ---------------------------------------------------------------- images

function showScene(): void {
  const index = Math.max(0, Math.floor(Number(ui.sceneIndex.value) || 0));
  ui.sceneIndex.value = String(index);
  const shape = ui.sceneShape.value as ShapeName;
  const sample = demoScenes(shape).sample(index);
  setImage({
    image: sample.image,
    groundTruth: sample.mask,
    sceneTarget: sample.targetName,
    description: `synthetic scene ${index} (test split), ${sample.width}×${sample.height}, target: ${sample.targetName}`,
  });
  if (sample.targetName) ui.target.value = sample.targetName;
  updateTargetInfo();
}

async function showFile(file: File): Promise<void> {
  try {
    const image = await rgbImageFromBlob(file);
    setImage({
      image,
      groundTruth: null,
      sceneTarget: null,
      description: `${file.name}, ${image.width}×${image.height} (no ground truth)`,
    });
    updateTargetInfo();
  } catch (err) {
    setStatus('error', (err as Error).message);
  }
}

function setImage(img: CurrentImage): void {
  void closeEpisode();
  current = img;
  ui.imageInfo.textContent = img.description;
  clearResults();
  drawView(ui.view, img.image, null, [], exp?.manifest.env.gridSize ?? null);
  drawMask(ui.mask, img.image.width, img.image.height, null);
  if (exp) setStatus('ready', 'Ready: press Predict to watch the agent, or Step for one click at a time.');
}

function clearResults(): void {
  ui.steps.replaceChildren();
  ui.stepCount.textContent = '–';
  ui.maskArea.textContent = '–';
  ui.iou.textContent = '–';
}

// ---------------------------------------------------------------- episode

async function closeEpisode(): Promise<void> {
  const e = episode;
  episode = null;
  if (e) await e.close();
}

function render(view: DemoStepView): void {
  if (!current || !exp) return;
  drawView(ui.view, current.image, view.mask, view.clicks, exp.manifest.env.gridSize);
  drawMask(ui.mask, current.image.width, current.image.height, view.mask);
  const horizon = exp.manifest.env.horizon;
  ui.stepCount.textContent = `${view.t} / ${horizon}`;
  ui.maskArea.textContent = String(view.maskArea);
  ui.maskArea.dataset.value = String(view.maskArea);
  ui.iou.textContent = view.iou === null ? 'n/a' : view.iou.toFixed(3);
  ui.steps.querySelectorAll('tr.current').forEach((row) => row.classList.remove('current'));
  const added = view.clicks.filter((c) => (view.t === 0 ? c.step === 0 : c.step === view.t));
  added.forEach((c, i) => {
    const tr = document.createElement('tr');
    tr.className = 'current';
    tr.dataset.step = String(c.step);
    tr.dataset.cell = String(c.cell);
    tr.dataset.label = String(c.label);
    const last = i === added.length - 1;
    const cells = [
      c.step === 0 ? '0 (initial)' : String(c.step),
      String(c.cell),
      `${c.x.toFixed(1)}, ${c.y.toFixed(1)}`,
      c.label === 1 ? '+' : '−',
      last ? String(view.maskArea) : '',
      last && view.iou !== null ? view.iou.toFixed(3) : '',
      last ? view.ms.toFixed(0) : '',
    ];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    }
    ui.steps.appendChild(tr);
  });
}

async function ensureEpisode(): Promise<DemoEpisode> {
  if (episode) return episode;
  if (!exp || !embeddings || !current) throw new Error('no agent or image yet');
  clearResults();
  setStatus('running', 'Encoding the image…');
  await nextFrame();
  const target = ui.target.value.trim() || null;
  const started = await DemoEpisode.start(exp, embeddings, {
    image: current.image,
    target,
    groundTruth: current.sceneTarget && target === current.sceneTarget ? current.groundTruth : null,
  });
  episode = started.episode;
  render(started.view);
  ui.status.dataset.encodeMs = started.encodeMs.toFixed(0);
  return episode;
}

const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function stepOnce(): Promise<void> {
  const e = await ensureEpisode();
  if (e.done) return;
  render(await e.step());
  await nextFrame();
}

function finish(e: DemoEpisode): void {
  const area = ui.maskArea.dataset.value ?? '0';
  // Tensors alive now: flat across episodes unless something leaks.
  ui.status.dataset.tensors = String(tf.memory().numTensors);
  if (e.done)
    setStatus(
      'done',
      `Done: ${e.horizon} clicks, mask area ${area} px${ui.iou.textContent && ui.iou.textContent !== 'n/a' ? `, IoU ${ui.iou.textContent}` : ''}.`,
    );
  else setStatus('ready', `${e.clicks.filter((c) => c.step > 0).length} of ${e.horizon} clicks; mask area ${area} px.`);
}

async function guarded(job: () => Promise<void>): Promise<void> {
  if (busy) return;
  setBusy(true);
  try {
    await job();
  } catch (err) {
    console.error(err);
    setStatus('error', (err as Error).message);
  } finally {
    setBusy(false);
  }
}

async function play(): Promise<void> {
  if (busy) {
    stopRequested = true;
    return;
  }
  stopRequested = false;
  await guarded(async () => {
    if (episode?.done) await closeEpisode();
    const e = await ensureEpisode();
    const t0 = performance.now();
    while (!e.done && !stopRequested) {
      setStatus('running', `Click ${e.clicks.filter((c) => c.step > 0).length + 1} of ${e.horizon}…`);
      await stepOnce();
      const pause = Number(ui.delay.value);
      if (pause > 0 && !e.done) await sleep(pause);
    }
    ui.status.dataset.episodeMs = (performance.now() - t0).toFixed(0);
    finish(e);
  });
}

// ---------------------------------------------------------------- agent

function describeExport(e: BrowserExport): string {
  const m = e.manifest;
  const sam = e.sam.config;
  return (
    `${m.algo}, ${m.source.numTimesteps} training steps; ${m.env.gridSize}×${m.env.gridSize} grid, ${m.env.horizon} clicks, labels by ${m.env.labelSource === 'recalibration' ? 'the recalibration module' : m.env.labelSource}; ` +
    `SAM '${sam.name}' (${sam.imageEncoder.imgSize} px input); ${(e.bytes / 2 ** 20).toFixed(1)} MiB`
  );
}

function updateTargetInfo(): void {
  if (!exp) return;
  if (exp.textDim === 0) {
    ui.targetInfo.textContent =
      'This agent takes no target name (it was trained on one task); the name only picks the ground truth for IoU.';
    return;
  }
  const name = ui.target.value.trim();
  const known = exp.knownTargets;
  if (known.includes(name)) ui.targetInfo.textContent = `'${name}' is one of the agent's targets.`;
  else if (exp.manifest.text.encoder === 'hashed')
    ui.targetInfo.textContent = `Known targets: ${known.join(', ')}; other names are encoded by spelling only.`;
  else ui.targetInfo.textContent = `Known targets: ${known.join(', ')}.`;
}

async function main(): Promise<void> {
  for (const s of SHAPE_NAMES) ui.sceneShape.add(new Option(s, s));
  const wanted = (params.get('backend') ?? 'wasm') as Backend;
  ui.backend.value = BACKENDS.includes(wanted) ? wanted : 'wasm';
  if (params.has('delay')) ui.delay.value = params.get('delay')!;
  if (params.has('scene')) ui.sceneIndex.value = params.get('scene')!;
  ui.delayValue.textContent = `${ui.delay.value} ms`;
  setBusy(true);
  ui.run.disabled = true;
  try {
    setStatus('loading', 'Starting TensorFlow.js…');
    const backend = await initBackend(ui.backend.value as Backend);
    ui.backendInfo.textContent = backend === ui.backend.value ? '' : `(${ui.backend.value} failed; using ${backend})`;
    ui.status.dataset.backend = backend;
    const url = new URL(params.get('export') ?? 'export/', location.href).href;
    const t0 = performance.now();
    exp = await loadBrowserExport(url, { onProgress: (what) => setStatus('loading', `Loading the agent: ${what}…`) });
    ui.status.dataset.loadMs = (performance.now() - t0).toFixed(0);
    embeddings = new PageEmbeddings(exp.sam);
    ui.exportInfo.textContent = describeExport(exp);
    for (const n of exp.knownTargets) ui.knownTargets.appendChild(new Option(n, n));
    const first = exp.knownTargets.find((n): n is ShapeName => (SHAPE_NAMES as readonly string[]).includes(n));
    ui.sceneShape.value = first ?? 'star';
    showScene();
  } catch (err) {
    console.error(err);
    setStatus('error', (err as Error).message);
    ui.exportInfo.textContent = 'not loaded';
    return;
  } finally {
    setBusy(false);
  }

  ui.run.addEventListener('click', () => void play());
  ui.step.addEventListener(
    'click',
    () =>
      void guarded(async () => {
        if (episode?.done) await closeEpisode();
        await stepOnce();
        finish(episode!);
      }),
  );
  ui.reset.addEventListener(
    'click',
    () =>
      void guarded(async () => {
        await closeEpisode();
        if (current) setImage(current);
      }),
  );
  ui.sceneIndex.addEventListener('change', showScene);
  ui.sceneShape.addEventListener('change', showScene);
  ui.sceneRandom.addEventListener('click', () => {
    ui.sceneIndex.value = String(Math.floor(Math.random() * 100_000));
    showScene();
  });
  ui.target.addEventListener('input', () => {
    void closeEpisode();
    updateTargetInfo();
  });
  ui.delay.addEventListener('input', () => (ui.delayValue.textContent = `${ui.delay.value} ms`));
  ui.backend.addEventListener('change', () => {
    params.set('backend', ui.backend.value);
    location.search = params.toString();
  });
  ui.file.addEventListener('change', () => {
    const f = ui.file.files?.[0];
    if (f) void showFile(f);
  });
  for (const el of [ui.dropzone, ui.view]) {
    el.addEventListener('dragover', (ev) => {
      ev.preventDefault();
      ui.dropzone.classList.add('over');
    });
    el.addEventListener('dragleave', () => ui.dropzone.classList.remove('over'));
    el.addEventListener('drop', (ev) => {
      ev.preventDefault();
      ui.dropzone.classList.remove('over');
      const f = ev.dataTransfer?.files?.[0];
      if (f && !busy) void showFile(f);
    });
  }
}

void main();
