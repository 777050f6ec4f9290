import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { DownloadProgress, downloadFile, SAM_CHECKPOINTS } from '../../src/io/download';

const BODY = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 131 + (i >> 9)) & 0xff));
const BODY_SHA = createHash('sha256').update(BODY).digest('hex');

/** A loopback server: every test talks only to 127.0.0.1. */
function startServer(): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const sendBody = (withLength: boolean): void => {
      res.writeHead(200, withLength ? { 'content-length': String(BODY.length) } : {});
      // Several chunks, so that progress is reported more than once.
      for (let i = 0; i < BODY.length; i += 65536) res.write(BODY.subarray(i, i + 65536));
      res.end();
    };
    if (url === '/file') return sendBody(true);
    if (url === '/chunked') return sendBody(false);
    if (url === '/redirect') {
      res.writeHead(302, { location: '/file' });
      return res.end();
    }
    if (url === '/redirect-absolute') {
      const { port } = server.address() as AddressInfo;
      res.writeHead(301, { location: `http://127.0.0.1:${port}/redirect` });
      return res.end();
    }
    if (url === '/loop') {
      res.writeHead(307, { location: '/loop' });
      return res.end();
    }
    if (url === '/stall') {
      res.writeHead(200, { 'content-length': String(BODY.length) });
      res.write(BODY.subarray(0, 1000));
      return; // never finishes: the client's idle timeout must fire
    }
    if (url === '/truncated') {
      res.writeHead(200, { 'content-length': String(BODY.length) });
      res.write(BODY.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.writeHead(404);
    res.end('not found');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, base: `http://127.0.0.1:${port}` });
    });
  });
}

describe('downloadFile (loopback server only)', () => {
  let server: http.Server;
  let base: string;
  let dir: string;
  beforeAll(async () => {
    ({ server, base } = await startServer());
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('official checkpoint URLs', () => {
    expect(SAM_CHECKPOINTS.vit_h.url).toBe('https://dl.fbaipublicfiles.com/segment_anything/sam_vit_h_4b8939.pth');
    expect(SAM_CHECKPOINTS.vit_l.url).toBe('https://dl.fbaipublicfiles.com/segment_anything/sam_vit_l_0b3195.pth');
    expect(SAM_CHECKPOINTS.vit_b.url).toBe('https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth');
  });

  test('downloads with progress and a checked SHA-256', async () => {
    const dest = path.join(dir, 'sub', 'model.pth');
    const progress: DownloadProgress[] = [];
    const result = await downloadFile(`${base}/file`, dest, {
      onProgress: (p) => progress.push(p),
      expectedSha256: BODY_SHA,
    });
    expect(Buffer.compare(fs.readFileSync(dest), BODY)).toBe(0);
    expect(result).toEqual({ path: dest, bytes: BODY.length, sha256: BODY_SHA, finalUrl: `${base}/file` });
    expect(progress.length).toBeGreaterThan(1);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i].receivedBytes).toBeGreaterThan(progress[i - 1].receivedBytes);
    expect(progress[progress.length - 1]).toEqual({ receivedBytes: BODY.length, totalBytes: BODY.length });
    expect(fs.readdirSync(path.dirname(dest))).toEqual(['model.pth']);
  });

  test('follows relative and absolute redirects', async () => {
    const dest = path.join(dir, 'model.pth');
    const result = await downloadFile(`${base}/redirect-absolute`, dest);
    expect(result.finalUrl).toBe(`${base}/file`);
    expect(Buffer.compare(fs.readFileSync(dest), BODY)).toBe(0);
  });

  test('works without Content-Length', async () => {
    const dest = path.join(dir, 'model.pth');
    const progress: DownloadProgress[] = [];
    await downloadFile(`${base}/chunked`, dest, { onProgress: (p) => progress.push(p) });
    expect(Buffer.compare(fs.readFileSync(dest), BODY)).toBe(0);
    expect(progress[progress.length - 1]).toEqual({ receivedBytes: BODY.length, totalBytes: null });
  });

  describe('failures leave nothing at the destination', () => {
    // Every row has all four fields: jest would pass `done` in place of a missing last argument.
    test.each<[string, string, RegExp, object]>([
      ['interrupted transfer', '/truncated', /failed after \d+ bytes|interrupted|incomplete/, {}],
      ['HTTP 404', '/nothing-here', /HTTP 404/, {}],
      ['redirect loop', '/loop', /too many redirects/, {}],
      ['stalled server', '/stall', /no data .* for 200 ms/, { idleTimeoutMs: 200 }],
      ['checksum mismatch', '/file', /SHA-256 [0-9a-f]{64}, expected 0{64}/, { expectedSha256: '0'.repeat(64) }],
    ])('%s', async (_label, route, pattern, options) => {
      const dest = path.join(dir, 'model.pth');
      await expect(downloadFile(`${base}${route}`, dest, options)).rejects.toThrow(pattern);
      expect(fs.existsSync(dest)).toBe(false);
      expect(fs.readdirSync(dir)).toEqual([]);
    });

    test('an existing file is left untouched by a failed download', async () => {
      const dest = path.join(dir, 'model.pth');
      fs.writeFileSync(dest, 'old');
      await expect(downloadFile(`${base}/truncated`, dest)).rejects.toThrow();
      expect(fs.readFileSync(dest, 'utf8')).toBe('old');
      expect(fs.readdirSync(dir)).toEqual(['model.pth']);
    });

    test('unsupported URLs and bad checksums are refused up front', async () => {
      await expect(downloadFile('ftp://127.0.0.1/x', path.join(dir, 'x'))).rejects.toThrow(/only http and https/);
      await expect(downloadFile(`${base}/file`, path.join(dir, 'x'), { expectedSha256: 'abc' })).rejects.toThrow(
        /64 hex digits/,
      );
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });
});
