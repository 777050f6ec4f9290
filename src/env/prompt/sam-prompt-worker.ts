/**
 * Worker side of `SamPromptWorkerVectorEnv`: loads its own SAM (each worker thread has its own
 * tfjs and wasm instance, so two workers use two cores) and runs a SAM-batched vector env over its
 * share of the envs.
 */
import { parentPort } from 'worker_threads';
import { BackendName, initBackend } from '../../backend';
import { createDataset } from '../../data/factory';
import type { RewardConfig } from '../../reward/config';
import { loadSam } from '../../sam/pretrained';
import { EmbeddingCache } from '../../sam/embedding-cache';
import type { VectorStepResult } from '../vector/types';
import type { ClickLabeler } from './labeler';
import type { PromptObservation } from './observation';
import { SamPromptVectorEnv } from './sam-prompt-vector-env';
import { SerializedRestore, SerializedStep, WorkerReply, WorkerRequest, serializeObservation } from './worker-messages';

let venv: SamPromptVectorEnv | null = null;
/** Labels decided on the main thread (by its SRM) for the next step. */
let queuedLabels: (0 | 1)[] = [];
const queueLabeler: ClickLabeler = {
  async labelClicks(requests) {
    if (queuedLabels.length < requests.length)
      throw new Error('worker env: the main thread sent no labels for this step');
    return queuedLabels.splice(0, requests.length);
  },
  async scoreCells() {
    throw new Error("worker env: initialPrompts 'labeler' is not available in worker mode");
  },
};

function serializeStep(r: VectorStepResult<PromptObservation>): SerializedStep {
  return {
    observations: r.observations.map(serializeObservation),
    rewards: r.rewards,
    terminated: r.terminated,
    truncated: r.truncated,
    infos: r.infos.map((info) =>
      info.final_observation
        ? { ...info, final_observation: serializeObservation(info.final_observation as PromptObservation) }
        : info,
    ),
  };
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'init': {
      const c = req.config;
      await initBackend((c.backend ?? 'auto') as BackendName);
      const sam = await loadSam(c.checkpoint);
      const dataset = await createDataset(c.data as never, { baseDir: c.dataBaseDir });
      venv = new SamPromptVectorEnv({
        numEnvs: req.numEnvs,
        seed: req.seed,
        dataset,
        embeddings: new EmbeddingCache(sam, { dir: c.cacheDir }),
        labelSource: c.labelSource,
        labeler: queueLabeler,
        gridSize: c.gridSize,
        horizon: c.horizon,
        initialPrompts: c.initialPrompts,
        reward: c.reward as RewardConfig | undefined,
        rewardBaseDir: c.rewardBaseDir,
        multimaskOutput: c.multimaskOutput,
        maskInput: c.maskInput,
        sampleOrder: c.sampleOrder,
        autoresetMode: 'same-step',
      });
      return null;
    }
    case 'reset': {
      const r = await venv!.reset({ seed: req.seed });
      return { observations: r.observations.map(serializeObservation), infos: r.infos };
    }
    case 'step':
      queuedLabels = req.labels ? [...req.labels] : [];
      return serializeStep(await venv!.step(req.actions));
    case 'getState':
      return venv!.getState();
    case 'setState': {
      const observations = await venv!.setState(req.states, req.source);
      return {
        observations: observations.map(serializeObservation),
        targetNames: venv!.envs.map((e) => e.currentSample!.targetName),
      } satisfies SerializedRestore;
    }
    case 'close':
      await venv?.close();
      venv = null;
      return null;
  }
}

parentPort!.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (value) => parentPort!.postMessage({ id: req.id, ok: true, value } satisfies WorkerReply),
    (err: Error) =>
      parentPort!.postMessage({ id: req.id, ok: false, error: err?.stack ?? String(err) } satisfies WorkerReply),
  );
});
