/** Options and helpers shared by the commands. */
import type { Argv } from 'yargs';

export const BACKENDS = ['auto', 'wasm', 'tensorflow', 'cpu'] as const;

export function withBackend<T>(y: Argv<T>) {
  return y.option('backend', {
    choices: BACKENDS,
    describe:
      "TensorFlow.js backend (default: the config's sam.backend, 'auto': native tensorflow when installed, else wasm)",
  });
}

export function withSet<T>(y: Argv<T>) {
  return y.option('set', {
    type: 'string',
    describe: 'Override a config key, key.path=value (the value is read as YAML); repeat for more',
    requiresArg: true,
  });
}

/** For the commands that load a config: custom reward modules named in it may be loaded and run. */
export function withAllowCode<T>(y: Argv<T>) {
  return y.option('allow-code', {
    type: 'boolean',
    default: false,
    describe:
      "Let the config (or the run folder's config.yaml) load and run code: custom reward term modules. Same as ALIGNSAM_ALLOW_CODE=1",
  });
}

/** `--set` given once is a string, several times an array. */
export function setList(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** Initialise the backend and say which one runs. */
export async function startBackend(
  choice: string | undefined,
  fromConfig: string,
  log: (m: string) => void,
): Promise<string> {
  const { initBackend } = await import('../backend');
  const name = await initBackend((choice ?? fromConfig) as Parameters<typeof initBackend>[0]);
  log(`backend: ${name}`);
  return name;
}

export function stderrLog(message: string): void {
  process.stderr.write(`${message}\n`);
}
