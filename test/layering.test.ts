/**
 * The layering of src/: data flows one way. Each area (a folder of src/, or a file at its top)
 * sits in a layer and may import only from its own area and from areas of lower layers; areas of
 * one layer do not import each other. Type-only and dynamic imports count too.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..', 'src');

/** Lowest first: shared building blocks below all their users, the command line and the public API on top. */
const LAYERS: readonly (readonly string[])[] = [
  ['utils', 'schema'],
  ['io', 'tfjs-ops', 'metrics', 'text'],
  ['backend', 'nn', 'baselines'],
  ['data'],
  ['sam'],
  ['sam-training', 'reward'],
  ['env'],
  ['agent', 'recalibration'],
  ['eval'],
  ['report'],
  ['config'],
  ['runs'],
  ['cli', 'index'],
];

const layerOf = new Map(LAYERS.flatMap((areas, i) => areas.map((a) => [a, i] as const)));

/** `src/env/prompt/x.ts` -> 'env'; `src/backend.ts` -> 'backend'. */
function areaOf(file: string): string {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length > 0 ? first : first.replace(/\.ts$/, '');
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The relative module specifiers a file imports (import, export ... from, import(), require()). */
function importsOf(text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((f) => f.startsWith('.'));
}

/** Every import that breaks the layering, as `file -> specifier (why)`. */
function layeringViolations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const from = areaOf(file);
    for (const spec of importsOf(text)) {
      const to = areaOf(path.resolve(path.dirname(file), spec));
      if (to === from) continue;
      const a = layerOf.get(from);
      const b = layerOf.get(to);
      const where = `src/${path.relative(SRC, file)} -> ${spec}`;
      if (a === undefined || b === undefined)
        out.push(`${where} ('${a === undefined ? from : to}' is in no layer; add it to LAYERS)`);
      else if (b > a) out.push(`${where} (${from} imports ${to}, a layer above it)`);
      else if (b === a) out.push(`${where} (${from} and ${to} share a layer and must not import each other)`);
    }
  }
  return out;
}

describe('layering of src/', () => {
  const files = new Map(sourceFiles(SRC).map((f) => [f, fs.readFileSync(f, 'utf8')]));

  test('every area of src/ is in a layer', () => {
    const areas = [...new Set([...files.keys()].map(areaOf))].sort();
    expect(areas.filter((a) => !layerOf.has(a))).toEqual([]);
    expect(areas.length).toBeGreaterThan(10);
  });

  test('no module imports from a layer above its own or from a sibling area of its layer', () => {
    expect(layeringViolations(files)).toEqual([]);
  });

  test('the check finds an upward import, a sibling import and an unknown area', () => {
    const fake = new Map([
      [path.join(SRC, 'env', 'a.ts'), "import type { X } from '../agent/x';\nexport { Y } from './y';"],
      [
        path.join(SRC, 'agent', 'b.ts'),
        "const r = () => import('../recalibration/srm');\nimport { Z } from '../env/z';",
      ],
      [path.join(SRC, 'data', 'c.ts'), "const m = require('../nowhere/m');"],
    ]);
    expect(layeringViolations(fake)).toEqual([
      'src/env/a.ts -> ../agent/x (env imports agent, a layer above it)',
      'src/agent/b.ts -> ../recalibration/srm (agent and recalibration share a layer and must not import each other)',
      "src/data/c.ts -> ../nowhere/m ('nowhere' is in no layer; add it to LAYERS)",
    ]);
  });
});
