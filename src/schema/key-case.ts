/**
 * Library options are camelCase (the TypeScript API) and config keys snake_case (the YAML files,
 * as Stable-Baselines3 names its hyperparameters). An option set is written once, in camelCase
 * beside the code that uses it; its config section is that schema with each key mapped
 * mechanically (`clipRangeVf` <-> `clip_range_vf`), so the two spellings cannot disagree.
 */
import type { z } from 'zod';
import { s, Section } from './schema';

type SnakeCase<K extends string> = K extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : K;
type CamelCase<K extends string> = K extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : K;

export type SnakeCaseKeys<T> = { [K in keyof T & string as SnakeCase<K>]: T[K] };
export type CamelCaseKeys<T> = { [K in keyof T & string as CamelCase<K>]: T[K] };

export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const camelCase = (key: string): string => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The fields of a camelCase option set under snake_case keys (to spread into a config section beside its own keys). */
export function snakeCaseShape<S extends Record<string, z.ZodType>>(shape: S): SnakeCaseKeys<S> {
  const mapped: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(shape)) {
    const snake = snakeCase(key);
    if (camelCase(snake) !== key)
      throw new Error(`option '${key}' does not map back from its config key '${snake}'; name it in plain camelCase`);
    mapped[snake] = field;
  }
  return mapped as SnakeCaseKeys<S>;
}

/** The config section of a camelCase option set: the same field schemas under snake_case keys. */
export function snakeCaseSection<S extends Record<string, z.ZodType>>(shape: S): Section<SnakeCaseKeys<S>> {
  return s.object(snakeCaseShape(shape)) as unknown as Section<SnakeCaseKeys<S>>;
}

/** A config section's values under the library's option names. */
export function camelCaseKeys<T extends object>(values: T): CamelCaseKeys<T> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [camelCase(k), v])) as CamelCaseKeys<T>;
}
