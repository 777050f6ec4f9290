/**
 * Baseline clickers: policies over the prompting env's cells that need no training, run in the same
 * env as the agent (same label source, same SAM, same episodes):
 * - random: a uniformly random allowed action (seeded);
 * - centre: the unclicked cell nearest the grid centre (the photographer's prior);
 * - oracle: the interactive-segmentation click simulator (src/baselines/oracle-click.ts) mapped to
 *   the grid: the cell holding the deepest pixel of the largest error region; when that cell was
 *   clicked already, the nearest unclicked cell whose centre lies in an error of the same kind.
 *   Under label source 'agent' the action carries the oracle's label; otherwise the env's label
 *   source labels the click (ground truth for 'oracle', the SRM for 'recalibration').
 */
import { nextOracleClick } from '../baselines/oracle-click';
import type { PromptObservation } from '../env/prompt/observation';
import type { SamPromptEnv } from '../env/prompt/sam-prompt-env';
import { Rng } from '../utils/rng';

export interface ClickPolicy {
  readonly name: string;
  /** Called before each episode with the episode's seed. */
  reset?(seed: number): void;
  act(env: SamPromptEnv, observation: PromptObservation): number | Promise<number>;
}

/** Click policies that need no training (`oracle-gt` and `random-gt` are two of them in an env labelled by the ground truth). */
export const CLICKER_NAMES = ['random', 'centre', 'oracle'] as const;
export type ClickerName = (typeof CLICKER_NAMES)[number];

/** The action that clicks `cell` with `label` (the label only matters under label source 'agent'). */
export function actionFor(env: SamPromptEnv, cell: number, label: 0 | 1): number {
  return env.labelSource === 'agent' && label === 0 ? cell + env.grid.numCells : cell;
}

function clickedCells(env: SamPromptEnv, obs: PromptObservation): Uint8Array {
  const n = env.grid.numCells;
  const clicked = new Uint8Array(n);
  for (let c = 0; c < n; c++) clicked[c] = obs.actionMask[c] ? 0 : 1;
  return clicked;
}

function noCellLeft(): never {
  throw new Error('every cell of the grid was clicked already (horizon > grid cells?)');
}

export class RandomClicker implements ClickPolicy {
  readonly name = 'random';
  private rng: Rng;

  constructor(seed = 0) {
    this.rng = new Rng(seed);
  }

  reset(seed: number): void {
    this.rng = new Rng(seed ^ 0x5bd1e995);
  }

  act(_env: SamPromptEnv, obs: PromptObservation): number {
    const allowed: number[] = [];
    for (let a = 0; a < obs.actionMask.length; a++) if (obs.actionMask[a]) allowed.push(a);
    if (allowed.length === 0) noCellLeft();
    return allowed[this.rng.int(allowed.length)];
  }
}

/** Unclicked cell nearest a point given in grid units (cell centres at i + 0.5); ties to the lower index. */
function nearestUnclicked(
  g: number,
  clicked: Uint8Array,
  gx: number,
  gy: number,
  accept: (cell: number) => boolean = () => true,
): number {
  let best = -1;
  let bestD = Infinity;
  for (let c = 0; c < g * g; c++) {
    if (clicked[c] || !accept(c)) continue;
    const d = ((c % g) + 0.5 - gx) ** 2 + (Math.floor(c / g) + 0.5 - gy) ** 2;
    if (d < bestD - 1e-12) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

export class CentreClicker implements ClickPolicy {
  readonly name = 'centre';

  act(env: SamPromptEnv, obs: PromptObservation): number {
    const g = env.grid.gridSize;
    const cell = nearestUnclicked(g, clickedCells(env, obs), g / 2, g / 2);
    if (cell < 0) noCellLeft();
    return actionFor(env, cell, 1);
  }
}

export class OracleClicker implements ClickPolicy {
  readonly name = 'oracle';

  act(env: SamPromptEnv, obs: PromptObservation): number {
    const sample = env.currentSample;
    if (!sample) throw new Error('oracle clicker: the env has no episode; call reset() first');
    const { width, height, mask: gt } = sample;
    const pred = env.fullResolutionMask();
    const g = env.grid.gridSize;
    const clicked = clickedCells(env, obs);
    const click = nextOracleClick(gt, pred, height, width);
    if (click === null) {
      // Perfect mask: any further click should keep it; the centre of the target is safest.
      const cell = nearestUnclicked(g, clicked, g / 2, g / 2);
      if (cell < 0) noCellLeft();
      return actionFor(env, cell, 1);
    }
    const gx = ((click.x + 0.5) * g) / width;
    const gy = ((click.y + 0.5) * g) / height;
    const isError = (cell: number): boolean => {
      const [x, y] = env.grid.cellCenterXY(cell, width, height);
      const i = Math.min(height - 1, Math.floor(y)) * width + Math.min(width - 1, Math.floor(x));
      return click.label === 1 ? gt[i] !== 0 && pred[i] === 0 : gt[i] === 0 && pred[i] !== 0;
    };
    let cell = nearestUnclicked(g, clicked, gx, gy, isError);
    if (cell < 0) cell = nearestUnclicked(g, clicked, gx, gy);
    if (cell < 0) noCellLeft();
    return actionFor(env, cell, click.label);
  }
}

export function createBaseline(name: ClickerName, seed = 0): ClickPolicy {
  if (name === 'random') return new RandomClicker(seed);
  if (name === 'centre') return new CentreClicker();
  if (name === 'oracle') return new OracleClicker();
  throw new Error(`unknown clicker '${name}' (known: ${CLICKER_NAMES.join(', ')})`);
}

/** A trained agent (anything with SB3's predict) as a click policy; deterministic by default. */
export function agentPolicy(
  agent: { predict(observation: unknown, opts?: { deterministic?: boolean }): Promise<number | Int32Array> },
  name = 'agent',
  deterministic = true,
): ClickPolicy {
  return {
    name,
    async act(_env, obs) {
      const a = await agent.predict(obs, { deterministic });
      return typeof a === 'number' ? a : a[0];
    },
  };
}
