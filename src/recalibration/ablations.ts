/**
 * The paper's ablations as plain option presets, so a trainer or the CLI can run each:
 *
 *   full         RL picks the cell, the SRM labels it, T = 15 steps          (VOC 62.1 mIoU)
 *   without-rl   random cells, SRM labels ("w/o RL")                          (VOC 54.1)
 *   without-srm  RL picks cell AND label: 2*G*G actions, no SRM ("w/o SRM")  (VOC 27.7)
 *   single-step  the full method with T = 1                                   (CUHK 68.5 -> 46.9)
 *
 * A preset says how to build the env (label source, horizon, whether it needs the SRM as
 * labeler), which policy clicks ('learned' = train an agent; 'random' = `RandomCellPolicy`), and
 * whether the SRM is trained online. `ablationEnvOptions` merges a preset into env options.
 */
import type { PromptObservation } from '../env/prompt/observation';
import type { SamPromptEnvOptions } from '../env/prompt/sam-prompt-env';
import { Rng } from '../utils/rng';
import type { SemanticRecalibrationModule } from './srm';
import { randomAllowedAction } from './srm-training';

export const ABLATION_NAMES = ['full', 'without-rl', 'without-srm', 'single-step'] as const;
export type AblationName = (typeof ABLATION_NAMES)[number];

export interface AblationPreset {
  name: AblationName;
  description: string;
  /** Env options this ablation fixes. */
  env: Pick<SamPromptEnvOptions, 'labelSource' | 'horizon'>;
  /** 'learned': train an RL agent; 'random': click random allowed cells. */
  policy: 'learned' | 'random';
  /** Whether the SRM labels clicks (and so is trained online and passed as the env's labeler). */
  usesSrm: boolean;
  /** The paper's numbers for this row, for reports. */
  paper: string;
}

export function ablationPreset(name: AblationName, opts: { horizon?: number } = {}): AblationPreset {
  const horizon = opts.horizon ?? 15;
  switch (name) {
    case 'full':
      return {
        name,
        description: 'RL chooses the cell, the SRM labels it',
        env: { labelSource: 'recalibration', horizon },
        policy: 'learned',
        usesSrm: true,
        paper: 'VOC 62.1 mIoU',
      };
    case 'without-rl':
      return {
        name,
        description: 'random cells, SRM labels (w/o RL)',
        env: { labelSource: 'recalibration', horizon },
        policy: 'random',
        usesSrm: true,
        paper: 'VOC 54.1 mIoU (full: 62.1)',
      };
    case 'without-srm':
      return {
        name,
        description: 'the agent picks the cell and its label (w/o SRM)',
        env: { labelSource: 'agent', horizon },
        policy: 'learned',
        usesSrm: false,
        paper: 'VOC 27.7 mIoU (full: 62.1)',
      };
    case 'single-step':
      return {
        name,
        description: 'the full method with one click per episode (T = 1)',
        env: { labelSource: 'recalibration', horizon: 1 },
        policy: 'learned',
        usesSrm: true,
        paper: 'CUHK 46.9 mIoU (multi-step: 68.5)',
      };
    default:
      throw new Error(`unknown ablation '${String(name)}' (known: ${ABLATION_NAMES.join(', ')})`);
  }
}

/**
 * `base` with the ablation applied: label source and horizon set, the SRM passed as labeler when
 * the ablation uses it (and required then), and no labeler otherwise.
 */
export function ablationEnvOptions<T extends SamPromptEnvOptions>(
  base: T,
  name: AblationName,
  srm?: SemanticRecalibrationModule,
): T {
  const preset = ablationPreset(name, { horizon: base.horizon });
  if (preset.usesSrm && !srm) throw new Error(`ablation '${name}' labels clicks with the SRM: pass one`);
  const out: T = { ...base, ...preset.env, labeler: preset.usesSrm ? srm : undefined };
  // Without the SRM nothing scores cells for P0, and a deployed agent has no ground truth: no P0.
  if (!preset.usesSrm && out.initialPrompts === 'labeler') out.initialPrompts = 'none';
  return out;
}

/** The "w/o RL" clicker: a uniformly random allowed cell, seeded. */
export class RandomCellPolicy {
  private readonly rng: Rng;

  constructor(seed = 0) {
    this.rng = new Rng(seed);
  }

  predict(observation: Pick<PromptObservation, 'actionMask'>): number {
    return randomAllowedAction(observation.actionMask, this.rng);
  }

  predictBatch(observations: readonly Pick<PromptObservation, 'actionMask'>[]): Int32Array {
    return Int32Array.from(observations, (o) => this.predict(o));
  }
}
