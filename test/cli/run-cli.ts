/** Runs the CLI's `main` in-process, capturing what it writes to stderr and stdout. */
import { main } from '../../src/cli/main';

export interface CliResult {
  code: number;
  stderr: string;
  stdout: string;
}

export async function runMain(args: string[]): Promise<CliResult> {
  let stderr = '';
  let stdout = '';
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  try {
    const code = await main(args);
    return { code, stderr, stdout };
  } finally {
    e.mockRestore();
    o.mockRestore();
  }
}
