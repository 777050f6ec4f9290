/**
 * Loads PyTorch checkpoints written by `torch.save` (the zip format of torch >= 1.6): a zip with
 * `<archive>/data.pkl` (the pickled object), `<archive>/data/<key>` (one entry per storage) and, in
 * newer files, `<archive>/byteorder`. The pickle goes through the restricted unpickler with the torch
 * state-dict allow-list, so loading never executes code from the file.
 *
 * Accepted top-level objects: a state dict (a dict of tensors), or a dict that wraps one under
 * `model` or else `state_dict` (as training scripts often save); other entries of such a wrapper are
 * ignored, but they must still unpickle under the allow-list. Tensors may be non-contiguous views and
 * may share storages; each comes out as its own contiguous array. The legacy (pre-1.6) format is
 * refused with a message saying how to convert it.
 */
import { promises as fsp } from 'node:fs';

import { unpickle, PyDict, PyValue } from './pickle';
import { adoptBytes, DTYPE_BYTES, elementCount, NamedTensor, TensorReader, TensorRecord } from './tensor-record';
import { isTorchTensorRef, TorchTensorRef, torchPersistentLoad, torchStateDictGlobals } from './torch-globals';
import { looksLikeZip, ZipReader } from './zip';

/** Which object of the pickle held the state dict. */
export type StateDictLocation = 'top-level' | 'model' | 'state_dict';

export interface PthContents {
  tensors: TensorRecord;
  from: StateDictLocation;
}

/** Pickle header of the legacy format: PROTO 2, then LONG1 of torch's magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = Uint8Array.from([
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
]);

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

async function checkFormat(filePath: string): Promise<void> {
  const handle = await fsp.open(filePath, 'r');
  try {
    const head = new Uint8Array(LEGACY_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const first = head.subarray(0, bytesRead);
    if (looksLikeZip(first)) return;
    if (startsWith(first, LEGACY_MAGIC)) {
      throw new Error(
        `${filePath}: legacy (pre-1.6) PyTorch serialization is not supported. Re-save it with torch >= 1.6: ` +
          `python -c "import torch; torch.save(torch.load('old.pth', map_location='cpu'), 'new.pth')"`,
      );
    }
    throw new Error(`${filePath}: not a PyTorch zip checkpoint (no zip signature at the start)`);
  } finally {
    await handle.close();
  }
}

/** The `<archive>/` prefix: the folder holding `data.pkl`, shared by every entry. */
function archivePrefix(zip: ZipReader): string {
  const pickles = zip.entries.filter((e) => e.name === 'data.pkl' || e.name.endsWith('/data.pkl'));
  if (pickles.length !== 1) {
    throw new Error(`${zip.archiveName}: expected exactly one data.pkl in the archive, found ${pickles.length}`);
  }
  return pickles[0].name.slice(0, -'data.pkl'.length);
}

function isTensorDict(value: PyValue): value is PyDict {
  if (!(value instanceof PyDict) || value.items.size === 0) return false;
  for (const v of value.items.values()) if (!isTorchTensorRef(v)) return false;
  return true;
}

function findStateDict(root: PyValue, source: string): { dict: PyDict; from: StateDictLocation } {
  if (isTensorDict(root)) return { dict: root, from: 'top-level' };
  if (root instanceof PyDict) {
    for (const key of ['model', 'state_dict'] as const) {
      const inner = root.items.get(key);
      if (inner !== undefined && isTensorDict(inner)) return { dict: inner, from: key };
    }
    const bad = [...root.items].find(([, v]) => !isTorchTensorRef(v));
    const keys = [...root.items.keys()].slice(0, 8).map(String).join(', ');
    throw new Error(
      `${source}: the checkpoint is a dict but not a state dict (entry '${String(bad?.[0])}' is not a tensor) ` +
        `and holds no state dict under 'model' or 'state_dict' (keys: ${keys})`,
    );
  }
  throw new Error(`${source}: the checkpoint does not hold a dict of tensors`);
}

/**
 * The (possibly strided) view as a contiguous byte array of its own. With `mayTakeStorage` (the
 * storage has no other user), a view covering the whole storage takes its bytes without a copy.
 */
function gatherView(ref: TorchTensorRef, storageBytes: Uint8Array, what: string, mayTakeStorage: boolean): Uint8Array {
  const { shape, stride, storageOffset, storage } = ref;
  const itemBytes = DTYPE_BYTES[storage.dtype];
  const count = elementCount(shape);
  if (shape.some((d) => d < 0)) throw new Error(`${what}: negative size in [${shape.join(', ')}]`);
  if (storageOffset < 0) throw new Error(`${what}: negative storage offset ${storageOffset}`);
  if (count === 0) return new Uint8Array(0);
  let last = storageOffset;
  for (let d = 0; d < shape.length; d++) {
    if (stride[d] < 0) throw new Error(`${what}: negative stride ${stride[d]}`);
    last += (shape[d] - 1) * stride[d];
  }
  if (last >= storage.numel) {
    throw new Error(
      `${what}: view (offset ${storageOffset}, size [${shape.join(', ')}], stride [${stride.join(', ')}]) reaches element ${last} of a storage of ${storage.numel}`,
    );
  }

  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  if (contiguous && mayTakeStorage && storageOffset === 0 && count === storage.numel) return storageBytes;
  const out = new Uint8Array(count * itemBytes);
  if (contiguous) {
    out.set(storageBytes.subarray(storageOffset * itemBytes, (storageOffset + count) * itemBytes));
    return out;
  }

  // Walk the view in row-major order with an odometer over the indices; rows along the last
  // dimension are copied in one go when that dimension is dense.
  const rank = shape.length;
  const inner = shape[rank - 1];
  const innerDense = stride[rank - 1] === 1;
  const index = new Array<number>(rank).fill(0);
  let src = storageOffset;
  let dst = 0;
  for (;;) {
    if (innerDense) {
      out.set(storageBytes.subarray(src * itemBytes, (src + inner) * itemBytes), dst);
      dst += inner * itemBytes;
    } else {
      for (let i = 0, s = src; i < inner; i++, s += stride[rank - 1]) {
        out.set(storageBytes.subarray(s * itemBytes, (s + 1) * itemBytes), dst);
        dst += itemBytes;
      }
    }
    let d = rank - 2;
    for (; d >= 0; d--) {
      index[d]++;
      src += stride[d];
      if (index[d] < shape[d]) break;
      src -= stride[d] * shape[d];
      index[d] = 0;
    }
    if (d < 0) return out;
  }
}

/** An opened `.pth`: its state dict's tensors as references into the archive, not yet read. */
interface OpenedStateDict {
  zip: ZipReader;
  prefix: string;
  byteOrder: 'little' | 'big';
  refs: Array<[string, TorchTensorRef]>;
  from: StateDictLocation;
}

async function openStateDict(filePath: string): Promise<OpenedStateDict> {
  await checkFormat(filePath);
  const zip = await ZipReader.open(filePath);
  try {
    const prefix = archivePrefix(zip);
    let byteOrder: 'little' | 'big' = 'little';
    const orderEntry = zip.entry(`${prefix}byteorder`);
    if (orderEntry !== undefined) {
      const text = new TextDecoder().decode(await zip.read(orderEntry)).trim();
      if (text !== 'little' && text !== 'big') throw new Error(`${filePath}: unknown byteorder '${text}'`);
      byteOrder = text;
    }
    const root = unpickle(await zip.read(`${prefix}data.pkl`), {
      source: `${filePath} (${prefix}data.pkl)`,
      globals: torchStateDictGlobals(),
      persistentLoad: torchPersistentLoad,
    });
    const { dict, from } = findStateDict(root, filePath);
    const refs: Array<[string, TorchTensorRef]> = [];
    const dtypeOfStorage = new Map<string, string>();
    for (const [key, value] of dict.items) {
      if (typeof key !== 'string') throw new Error(`${filePath}: state dict key ${String(key)} is not a string`);
      const ref = value as TorchTensorRef;
      const { key: storage, dtype } = ref.storage;
      const seen = dtypeOfStorage.get(storage);
      if (seen !== undefined && seen !== dtype) {
        throw new Error(`${filePath}: tensor '${key}': storage ${storage} is used both as ${seen} and as ${dtype}`);
      }
      dtypeOfStorage.set(storage, dtype);
      const entryName = `${prefix}data/${storage}`;
      if (zip.entry(entryName) === undefined) {
        throw new Error(`${filePath}: tensor '${key}': storage entry '${entryName}' is missing`);
      }
      refs.push([key, ref]);
    }
    return { zip, prefix, byteOrder, refs, from };
  } catch (err) {
    await zip.close();
    throw err;
  }
}

/** A storage's bytes, checked against the size its reference declares. */
function checkedStorage(bytes: Uint8Array, ref: TorchTensorRef, what: string): Uint8Array {
  const { key, dtype, numel } = ref.storage;
  if (bytes.length !== numel * DTYPE_BYTES[dtype]) {
    throw new Error(`${what}: storage ${key} has ${bytes.length} bytes, expected ${numel} x ${dtype}`);
  }
  return bytes;
}

/** Load a `.pth` checkpoint's state dict, reporting where in the pickle it was found. */
export async function readPth(filePath: string): Promise<PthContents> {
  const { zip, prefix, byteOrder, refs, from } = await openStateDict(filePath);
  try {
    // Storages are read once, shared by the tensors that view them, and dropped after their last use.
    const remainingUses = new Map<string, number>();
    for (const [, ref] of refs) remainingUses.set(ref.storage.key, (remainingUses.get(ref.storage.key) ?? 0) + 1);
    const loaded = new Map<string, Uint8Array>();
    const tensors: TensorRecord = new Map();
    for (const [name, ref] of refs) {
      const what = `${filePath}: tensor '${name}'`;
      const { key, dtype } = ref.storage;
      let bytes = loaded.get(key);
      if (bytes === undefined) {
        bytes = checkedStorage(await zip.read(`${prefix}data/${key}`), ref, what);
        loaded.set(key, bytes);
      }
      const left = (remainingUses.get(key) ?? 1) - 1;
      remainingUses.set(key, left);
      const contiguous = gatherView(ref, bytes, what, left === 0);
      const tensor: NamedTensor = { dtype, shape: ref.shape.slice(), data: adoptBytes(dtype, contiguous, byteOrder) };
      tensors.set(name, tensor);
      if (left === 0) loaded.delete(key);
    }
    return { tensors, from };
  } finally {
    await zip.close();
  }
}

/**
 * Open a `.pth` checkpoint for reading one tensor at a time (see readPth for what is accepted):
 * each `readSync` reads that tensor's storage from the archive and keeps nothing after.
 */
export async function openPth(filePath: string): Promise<TensorReader> {
  const { zip, prefix, byteOrder, refs } = await openStateDict(filePath);
  const byName = new Map(refs);
  return {
    entries: new Map(refs.map(([name, ref]) => [name, { dtype: ref.storage.dtype, shape: ref.shape.slice() }])),
    readSync(name: string): NamedTensor {
      const ref = byName.get(name);
      if (ref === undefined) throw new Error(`${filePath}: no tensor '${name}'`);
      const what = `${filePath}: tensor '${name}'`;
      const bytes = checkedStorage(zip.readSync(`${prefix}data/${ref.storage.key}`), ref, what);
      // The storage was read for this tensor alone: a view of all of it takes its bytes as they are.
      const data = adoptBytes(ref.storage.dtype, gatherView(ref, bytes, what, true), byteOrder);
      return { dtype: ref.storage.dtype, shape: ref.shape.slice(), data };
    },
    close: () => zip.close(),
  };
}

/** Load a `.pth` checkpoint's state dict (see readPth for what is accepted). */
export async function loadPth(filePath: string): Promise<TensorRecord> {
  return (await readPth(filePath)).tensors;
}
