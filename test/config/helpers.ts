/** Helpers shared by the config tests. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from '../../src/config/load-config';

/** The ConfigError that `fn` throws; any other error is rethrown, and no error fails the test. */
export function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** A `writeTemp(name, text)` that writes `text` to `name` in a fresh temp folder named `<prefix>XXXXXX` and returns the file's path. */
export function tempWriter(prefix: string): (name: string, text: string) => string {
  return (name, text) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
}
