/**
 * Bundles the demo page into demo/dist with esbuild: app.js (the page's code, TensorFlow.js
 * included), index.html, style.css and the wasm backend's binaries.
 *
 * The page imports modules of src/ that also serve Node (a safetensors parser next to a file
 * reader, an image encoder next to a SHA-256 key). Their node-only imports are replaced by a stub
 * that throws when called, but only for the (module, import) pairs listed in NODE_ONLY_ALLOWED,
 * each with the reason the page never reaches it; any other node-only import fails the build, so a
 * new dependency on fs or crypto in the page's code path is caught here and not in a browser.
 *
 *   npx ts-node --transpile-only demo/build.ts [--minify]
 */
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';

export const DEMO_DIR = __dirname;
export const ROOT_DIR = path.resolve(__dirname, '..');
export const DIST_DIR = path.join(DEMO_DIR, 'dist');

/** `src/...` path -> node modules it may import (never called in the page) and why. */
export const NODE_ONLY_ALLOWED: Record<string, { modules: string[]; why: string }> = {
  'src/io/safetensors.ts': {
    modules: ['fs'],
    why: 'readSafetensors/writeSafetensors; the page calls parseSafetensors on fetched bytes',
  },
  'src/sam/image-encoding.ts': { modules: ['crypto'], why: 'embeddingKey; the page passes its own key to encodeImage' },
  'src/env/spaces/space.ts': {
    modules: ['crypto'],
    why: 'Space.seed() without a seed draws one; the page never reseeds spaces',
  },
  'src/reward/custom-term.ts': {
    modules: ['fs', 'path'],
    why: "loading a user's reward module; the page uses the built-in 'alignsam' preset",
  },
  'src/io/atomic-file.ts': {
    modules: ['fs', 'path', 'crypto'],
    why: 'atomic file writes; writeSafetensors; the page only parses',
  },
};

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const bare = (m: string) => m.replace(/^node:/, '').split('/')[0];

/** An ES module standing in for a node-only module: its exports exist and throw when called. */
function stubModule(spec: string): string {
  const name = bare(spec);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const real = require(name) as Record<string, unknown>;
  const names = Object.keys(real).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
  const lines = [
    `const deep = (what) => new Proxy(function () { throw new Error(what + ' is not available in the browser (stubbed by demo/build.ts)'); }, { get: (_t, p) => deep(what + '.' + String(p)) });`,
    ...names.map((k) => `export const ${k} = deep(${JSON.stringify(`${name}.${k}`)});`),
    `export default deep(${JSON.stringify(name)});`,
  ];
  return lines.join('\n');
}

/** Refuses node-only imports except the allowed pairs, which resolve to a throwing stub. */
function nodeOnlyGuard(allowedPairs: Record<string, { modules: string[] }>, found: Set<string>): esbuild.Plugin {
  return {
    name: 'node-only-guard',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        // Packages declare their own browser replacements ("browser": {"fs": false}), which
        // esbuild applies; the guard is for the project's code.
        if (!NODE_BUILTINS.has(args.path) || args.importer.includes(`${path.sep}node_modules${path.sep}`))
          return undefined;
        const importer = path.relative(ROOT_DIR, args.importer).split(path.sep).join('/');
        const allowed = allowedPairs[importer];
        found.add(`${importer} -> ${args.path}`);
        if (!allowed || !allowed.modules.includes(bare(args.path))) {
          return {
            errors: [
              {
                text: `${importer} imports the node-only module '${args.path}', which the browser lacks (see NODE_ONLY_ALLOWED in demo/build.ts)`,
              },
            ],
          };
        }
        return { path: args.path, namespace: 'node-only-stub' };
      });
      build.onLoad({ filter: /.*/, namespace: 'node-only-stub' }, (args) => ({
        contents: stubModule(args.path),
        loader: 'js',
      }));
    },
  };
}

export interface DemoBuildResult {
  outDir: string;
  bytes: number;
  ms: number;
  /** The node-only imports that were stubbed, as 'importer -> module'. */
  stubbed: string[];
}

export interface DemoBuildOptions {
  /** Default demo/dist. */
  outDir?: string;
  minify?: boolean;
  /** Entry module. Default demo/src/main.ts (other entries are for testing the build). */
  entry?: string;
  /** Node-only imports to stub. Default NODE_ONLY_ALLOWED. */
  allowed?: Record<string, { modules: string[] }>;
}

export async function buildDemo(opts: DemoBuildOptions = {}): Promise<DemoBuildResult> {
  const t0 = Date.now();
  const outDir = opts.outDir ?? DIST_DIR;
  const found = new Set<string>();
  fs.mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [opts.entry ?? path.join(DEMO_DIR, 'src', 'main.ts')],
    outfile: path.join(outDir, 'app.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2020'],
    minify: opts.minify ?? false,
    sourcemap: true,
    logLevel: 'silent',
    plugins: [nodeOnlyGuard(opts.allowed ?? NODE_ONLY_ALLOWED, found)],
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
  });
  for (const f of ['index.html', 'style.css']) fs.copyFileSync(path.join(DEMO_DIR, f), path.join(outDir, f));
  const wasmSrc = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const wasmOut = path.join(outDir, 'wasm');
  fs.mkdirSync(wasmOut, { recursive: true });
  for (const f of fs.readdirSync(wasmSrc).filter((n) => n.endsWith('.wasm')))
    fs.copyFileSync(path.join(wasmSrc, f), path.join(wasmOut, f));
  const bytes = Object.values(result.metafile!.outputs).reduce((s, o) => s + o.bytes, 0);
  return { outDir, bytes, ms: Date.now() - t0, stubbed: [...found].sort() };
}

if (require.main === module) {
  buildDemo({ minify: process.argv.includes('--minify') })
    .then((r) => {
      if (process.argv.includes('--verbose')) for (const s of r.stubbed) process.stdout.write(`stubbed: ${s}\n`);
      process.stdout.write(
        `demo built in ${r.ms} ms: ${path.relative(process.cwd(), r.outDir)}/app.js (${(r.bytes / 2 ** 20).toFixed(1)} MiB with source map)\n`,
      );
    })
    .catch((err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    });
}
