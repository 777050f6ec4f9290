/**
 * A static file server for the demo page: the built page at `/`, an export folder at `/export/`.
 * Loopback by default; files only (no listings), paths confined to their folder.
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

export interface DemoServerOptions {
  /** The built page (demo/dist). */
  distDir: string;
  /** An `alignsam export` folder, served at /export/. */
  exportDir: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

/** `root` joined with a URL path, or null when it would leave `root`. */
function confined(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

export function startDemoServer(opts: DemoServerOptions): Promise<DemoServer> {
  const dist = path.resolve(opts.distDir);
  const exp = path.resolve(opts.exportDir);
  for (const [what, dir] of [
    ['page', dist],
    ['export', exp],
  ] as const) {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
      throw new Error(`demo server: ${what} folder ${dir} does not exist`);
  }
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
    let file = urlPath.startsWith('/export/')
      ? confined(exp, urlPath.slice('/export/'.length))
      : confined(dist, urlPath === '/' ? 'index.html' : urlPath.slice(1));
    if (!file) return send(400, 'bad path');
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) return send(404, `not found: ${urlPath}`);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file!)] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-store',
      });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file!).pipe(res);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      const a = server.address() as AddressInfo;
      const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      resolve({
        url: `http://${host}:${a.port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
