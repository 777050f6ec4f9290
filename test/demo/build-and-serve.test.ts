/**
 * The demo's bundler guard (node-only imports fail the build unless allowed, and allowed ones
 * become stubs that throw when called) and its static server (files from two folders, nothing
 * outside them).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import { buildDemo, ROOT_DIR } from '../../demo/build';
import { startDemoServer } from '../../demo/server';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alignsam-demo-build-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('demo build', () => {
  const entry = () => {
    const file = path.join(tmp, 'entry.ts');
    fs.writeFileSync(
      file,
      "import { readFileSync } from 'node:fs';\nimport * as p from 'path';\n(globalThis as any).out = { join: typeof p.join, read: () => readFileSync('/etc/hostname') };\n",
    );
    return file;
  };
  const rel = (f: string) => path.relative(ROOT_DIR, f).split(path.sep).join('/');

  it('fails on a node-only import that is not allowed, naming the file and the module', async () => {
    const file = entry();
    await expect(
      buildDemo({ entry: file, outDir: path.join(tmp, 'a'), allowed: { [rel(file)]: { modules: ['path'] } } }),
    ).rejects.toThrow(new RegExp(`${rel(file).replace(/[.]/g, '\\.')} imports the node-only module 'node:fs'`));
  });

  it('stubs allowed node-only imports with exports that throw when called', async () => {
    const file = entry();
    const out = path.join(tmp, 'b');
    const r = await buildDemo({ entry: file, outDir: out, allowed: { [rel(file)]: { modules: ['fs', 'path'] } } });
    expect(r.stubbed).toEqual([`${rel(file)} -> node:fs`, `${rel(file)} -> path`]);
    const ctx: { out?: { join: string; read: () => unknown } } = {};
    vm.runInNewContext(fs.readFileSync(path.join(out, 'app.js'), 'utf8'), Object.assign(ctx, { globalThis: ctx }));
    expect(ctx.out!.join).toBe('function');
    expect(() => ctx.out!.read()).toThrow('fs.readFileSync is not available in the browser');
    expect(fs.existsSync(path.join(out, 'wasm', 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });
});

describe('demo server', () => {
  it('serves the page at / and the export at /export/, and nothing outside them', async () => {
    const dist = path.join(tmp, 'dist');
    const exp = path.join(tmp, 'exp');
    fs.mkdirSync(dist, { recursive: true });
    fs.mkdirSync(path.join(exp, 'srm'), { recursive: true });
    fs.writeFileSync(path.join(dist, 'index.html'), '<p>page</p>');
    fs.writeFileSync(path.join(exp, 'srm', 'srm.json'), '{"a":1}');
    fs.writeFileSync(path.join(tmp, 'secret.txt'), 'the-secret-content');
    const server = await startDemoServer({ distDir: dist, exportDir: exp });
    try {
      const get = async (p: string) => {
        const r = await fetch(new URL(p, server.url));
        return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
      };
      expect(await get('/')).toEqual({ status: 200, type: 'text/html; charset=utf-8', body: '<p>page</p>' });
      expect(await get('/export/srm/srm.json')).toEqual({
        status: 200,
        type: 'application/json; charset=utf-8',
        body: '{"a":1}',
      });
      expect((await get('/export/missing.json')).status).toBe(404);
      for (const p of [
        '/export/..%2fsecret.txt',
        '/export/..%2f..%2fsecret.txt',
        '/export/%2e%2e/%2e%2e/secret.txt',
        '/..%2fsecret.txt',
      ]) {
        const r = await get(p);
        expect(r.status).not.toBe(200);
        expect(r.body).not.toContain('the-secret-content');
      }
      expect((await fetch(new URL('/', server.url), { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});
