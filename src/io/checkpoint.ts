/**
 * Reads a checkpoint's tensors whatever its container: torch `.pth` (zip; the legacy format gets a
 * conversion hint) or safetensors. The format is told from the file's first bytes, not its name.
 */
import { promises as fsp } from 'node:fs';

import { loadPth, openPth } from './pth';
import { openSafetensors, readSafetensors } from './safetensors';
import { TensorReader, TensorRecord } from './tensor-record';
import { looksLikeZip } from './zip';

export type CheckpointFormat = 'pth' | 'safetensors';

/** 'pth' for zip or pickle data (torch, current or legacy); 'safetensors' otherwise. */
export async function detectCheckpointFormat(filePath: string): Promise<CheckpointFormat> {
  const handle = await fsp.open(filePath, 'r');
  try {
    const head = new Uint8Array(9);
    const { bytesRead } = await handle.read(head, 0, 9, 0);
    const first = head.subarray(0, bytesRead);
    // safetensors: an 8-byte little-endian header length, then the JSON header's '{'. Checked
    // first, since a header length's low byte may well be 0x80 (a pickle's PROTO opcode).
    if (bytesRead === 9 && head[8] === 0x7b && head[5] === 0 && head[6] === 0 && head[7] === 0) return 'safetensors';
    if (looksLikeZip(first) || first[0] === 0x80) return 'pth';
    return 'safetensors';
  } finally {
    await handle.close();
  }
}

/** A `.pth` or `.safetensors` checkpoint opened for reading one tensor at a time. */
export async function openCheckpoint(filePath: string): Promise<{ reader: TensorReader; format: CheckpointFormat }> {
  const format = await detectCheckpointFormat(filePath);
  const reader = format === 'pth' ? await openPth(filePath) : await openSafetensors(filePath);
  return { reader, format };
}

/** All tensors of a `.pth` or `.safetensors` checkpoint, under the names stored in it. */
export async function readCheckpoint(filePath: string): Promise<{ tensors: TensorRecord; format: CheckpointFormat }> {
  const format = await detectCheckpointFormat(filePath);
  const tensors = format === 'pth' ? await loadPth(filePath) : (await readSafetensors(filePath)).tensors;
  return { tensors, format };
}
