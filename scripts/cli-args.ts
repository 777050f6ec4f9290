/** `--name value` options of the scripts' command lines. */

/** The value after `--name`, or `fallback` when the option is absent or has no value. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The value after `--name`; fails naming the script and the option when it is missing. */
export function requiredArg(script: string, name: string): string {
  const value = arg(name, '');
  if (!value) throw new Error(`${script}: --${name} is required`);
  return value;
}
