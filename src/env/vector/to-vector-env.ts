import type { Env } from '../types';
import { SyncVectorEnv } from './sync-vector-env';
import type { AutoresetMode, VectorEnv } from './types';

function isVectorEnv(x: unknown): x is VectorEnv {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as VectorEnv).numEnvs === 'number' &&
    typeof (x as VectorEnv).step === 'function'
  );
}

function isEnv(x: unknown): x is Env {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as Env).step === 'function' &&
    typeof (x as Env).reset === 'function'
  );
}

/**
 * What a trainer takes as its env: a vector env (which must autoreset in `autoresetMode`), one env,
 * or a list of envs, the last two stepped one after another in this thread (a SyncVectorEnv in
 * `autoresetMode`). `who` names the caller in errors.
 */
export function toVectorEnv<Obs, Act>(
  env: VectorEnv<Obs, Act> | Env<Obs, Act> | readonly Env<Obs, Act>[],
  autoresetMode: AutoresetMode,
  who = 'toVectorEnv',
): VectorEnv<Obs, Act> {
  if (isVectorEnv(env)) {
    if (env.autoresetMode !== autoresetMode) {
      throw new Error(
        `${who} needs a vector env with autoresetMode '${autoresetMode}', got '${String(env.autoresetMode)}'`,
      );
    }
    return env;
  }
  const envs = Array.isArray(env) ? env : [env];
  if (envs.length === 0 || !envs.every(isEnv))
    throw new Error(`${who} expects an env, a non-empty array of envs, or a vector env`);
  return new SyncVectorEnv(
    envs.map((e) => () => e as Env<Obs, Act>),
    { autoresetMode },
  );
}
