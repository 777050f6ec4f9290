import { Box } from './box';
import { Dict } from './dict';
import { Discrete } from './discrete';
import { MultiDiscrete } from './multi-discrete';
import { Space, SpaceJSON } from './space';
import { TensorRefSpace } from './tensor-ref';

export type SpaceBuilder = (json: SpaceJSON) => Space<unknown>;

const builders = new Map<string, SpaceBuilder>([
  ['Discrete', (j) => new Discrete(j.n as number, j.start as number)],
  ['MultiDiscrete', (j) => new MultiDiscrete(j.nvec as number[], j.start as number[])],
  ['Box', (j) => Box.fromJSON(j)],
  ['TensorRef', (j) => new TensorRefSpace(j.shape as number[], { dtype: j.dtype as string })],
  [
    'Dict',
    (j) => {
      const spaces: Record<string, Space<unknown>> = {};
      for (const [key, sub] of Object.entries(j.spaces as Record<string, SpaceJSON>)) spaces[key] = spaceFromJSON(sub);
      return new Dict(spaces);
    },
  ],
]);

/**
 * Teach `spaceFromJSON` a space type, keyed by its JSON `type` (for a CustomSpace, by
 * `Custom:<name>`). A worker-hosted env with such a space needs this registered in the main thread.
 */
export function registerSpaceType(type: string, build: SpaceBuilder): void {
  builders.set(type, build);
}

/**
 * Rebuild a space from `toJSON()` (sampler seeds are not carried). Custom predicates such as
 * TensorRefSpace's `isValid` are not carried either; the rebuilt space checks structure only.
 */
export function spaceFromJSON(json: SpaceJSON): Space<unknown> {
  if (json === null || typeof json !== 'object' || typeof json.type !== 'string') {
    throw new Error(`spaceFromJSON: expected {type, ...}, got ${JSON.stringify(json)}`);
  }
  const key = json.type === 'Custom' ? `Custom:${String(json.name)}` : json.type;
  const build = builders.get(key);
  if (!build) throw new Error(`spaceFromJSON: unknown space type '${key}' (register it with registerSpaceType)`);
  return build(json);
}
