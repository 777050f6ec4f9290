/**
 * Downloading checkpoints for users who have a network. Kept apart from the loaders: nothing else in
 * the project touches the network. The download streams into a temporary file next to the
 * destination and is renamed into place only when complete (and, if asked, when its SHA-256 matches),
 * so an interrupted or failed download never leaves a file at the destination.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { tempPathFor } from './atomic-file';

export type SamModelType = 'vit_h' | 'vit_l' | 'vit_b';

export const SAM_CHECKPOINT_BASE_URL = 'https://dl.fbaipublicfiles.com/segment_anything/';

/** The official segment-anything checkpoints (torch zip format). */
export const SAM_CHECKPOINTS: Readonly<Record<SamModelType, { fileName: string; url: string }>> = {
  vit_h: { fileName: 'sam_vit_h_4b8939.pth', url: `${SAM_CHECKPOINT_BASE_URL}sam_vit_h_4b8939.pth` },
  vit_l: { fileName: 'sam_vit_l_0b3195.pth', url: `${SAM_CHECKPOINT_BASE_URL}sam_vit_l_0b3195.pth` },
  vit_b: { fileName: 'sam_vit_b_01ec64.pth', url: `${SAM_CHECKPOINT_BASE_URL}sam_vit_b_01ec64.pth` },
};

export interface DownloadProgress {
  receivedBytes: number;
  /** From Content-Length; null when the server did not say. */
  totalBytes: number | null;
}

export interface DownloadOptions {
  onProgress?: (progress: DownloadProgress) => void;
  /** Hex SHA-256 the file must have; a mismatch fails the download. */
  expectedSha256?: string;
  /** Default 5. */
  maxRedirects?: number;
  /** Fail when no data arrives for this long; default 60 s. */
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** The URL that served the file, after redirects. */
  finalUrl: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Records why a transfer was cut short by us, since the stream itself only reports 'aborted'. */
interface AbortReason {
  error: Error | null;
}

function request(url: URL, idleTimeoutMs: number, abort: AbortReason): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const req = client.get(url, (res) => resolve(res));
    req.setTimeout(idleTimeoutMs, () => {
      abort.error = new Error(`no data from ${url.href} for ${idleTimeoutMs} ms`);
      req.destroy(abort.error);
    });
    req.on('error', reject);
  });
}

/** GET `url`, following redirects; resolves with a 2xx response. */
async function openResponse(
  url: URL,
  maxRedirects: number,
  idleTimeoutMs: number,
  abort: AbortReason,
): Promise<{ res: http.IncomingMessage; finalUrl: URL }> {
  let current = url;
  for (let hop = 0; ; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new Error(`cannot download ${current.href}: only http and https are supported`);
    }
    const res = await request(current, idleTimeoutMs, abort);
    const status = res.statusCode ?? 0;
    if (REDIRECT_STATUSES.has(status)) {
      res.resume();
      const location = res.headers.location;
      if (location === undefined) throw new Error(`HTTP ${status} from ${current.href} without a Location header`);
      if (hop >= maxRedirects)
        throw new Error(`too many redirects (more than ${maxRedirects}) starting from ${url.href}`);
      const next = new URL(location, current);
      if (current.protocol === 'https:' && next.protocol === 'http:') {
        throw new Error(`refusing redirect from ${current.href} to insecure ${next.href}`);
      }
      current = next;
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      throw new Error(`HTTP ${status} ${res.statusMessage ?? ''} for ${current.href}`.trim());
    }
    return { res, finalUrl: current };
  }
}

/**
 * Download `url` to `destPath` (parent folders are created). Written to a temporary file and renamed
 * at the end; on any failure the temporary file is removed and `destPath` is left as it was.
 */
export async function downloadFile(
  url: string,
  destPath: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  const maxRedirects = options.maxRedirects ?? 5;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const expected = options.expectedSha256?.toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) {
    throw new Error(`expectedSha256 must be 64 hex digits, got '${options.expectedSha256}'`);
  }
  await fsp.mkdir(path.dirname(path.resolve(destPath)), { recursive: true });

  const abort: AbortReason = { error: null };
  const { res, finalUrl } = await openResponse(new URL(url), maxRedirects, idleTimeoutMs, abort);
  const lengthHeader = res.headers['content-length'];
  const totalBytes = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
  const hash = createHash('sha256');
  let receivedBytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      hash.update(chunk);
      receivedBytes += chunk.length;
      options.onProgress?.({ receivedBytes, totalBytes });
      callback(null, chunk);
    },
  });

  const tmp = tempPathFor(destPath);
  try {
    try {
      await pipeline(res, meter, createWriteStream(tmp, { flags: 'wx' }));
    } catch (err) {
      if (abort.error !== null) throw abort.error;
      throw new Error(`download of ${finalUrl.href} failed after ${receivedBytes} bytes: ${(err as Error).message}`);
    }
    if (!res.complete) throw new Error(`download of ${finalUrl.href} was interrupted after ${receivedBytes} bytes`);
    if (totalBytes !== null && receivedBytes !== totalBytes) {
      throw new Error(`download of ${finalUrl.href} is incomplete: got ${receivedBytes} of ${totalBytes} bytes`);
    }
    const sha256 = hash.digest('hex');
    if (expected !== undefined && sha256 !== expected) {
      throw new Error(`download of ${finalUrl.href} has SHA-256 ${sha256}, expected ${expected}`);
    }
    await fsp.rename(tmp, destPath);
    return { path: destPath, bytes: receivedBytes, sha256, finalUrl: finalUrl.href };
  } catch (err) {
    res.destroy();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
