/**
 * Starts a worker thread running `workerFile` (a sibling .ts or .js module), registering ts-node
 * first when running from TypeScript sources, so the same code works from `src/` and from `dist/`.
 */
import * as path from 'path';
import { ResourceLimits, Worker } from 'worker_threads';

const TS_EXT = /\.(ts|mts|cts)$/;

/** `baseName` without extension, resolved next to `callerFile` in its own flavour (.ts or .js). */
export function startWorkerScript(
  callerFile: string,
  baseName: string,
  options: { needsTsNode?: boolean; resourceLimits?: ResourceLimits; workerData?: unknown } = {},
): Worker {
  const fromSource = TS_EXT.test(callerFile);
  const workerFile = path.join(path.dirname(callerFile), `${baseName}${fromSource ? '.ts' : '.js'}`);
  let tsNode: string | null = null;
  if (fromSource || options.needsTsNode) {
    try {
      tsNode = require.resolve('ts-node');
    } catch {
      throw new Error(`${workerFile} is TypeScript; install ts-node or use the compiled JavaScript`);
    }
  }
  const bootstrap = [
    "const { workerData } = require('worker_threads');",
    'if (workerData.tsNode) require(workerData.tsNode).register({ transpileOnly: true,',
    "  compilerOptions: { module: 'commonjs', moduleResolution: 'node' } });",
    'require(workerData.workerFile);',
  ].join('\n');
  return new Worker(bootstrap, {
    eval: true,
    workerData: { tsNode, workerFile, data: options.workerData },
    resourceLimits: options.resourceLimits,
  });
}
