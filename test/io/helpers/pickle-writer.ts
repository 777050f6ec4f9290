/**
 * Writes pickle opcodes by hand, for tests that need pickles Python never produced (malicious or
 * malformed ones) and for torch-style state dicts built without torch.
 */
export class PickleWriter {
  private readonly parts: number[] = [];
  private memoNext = 0;

  raw(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  private u32(v: number): number[] {
    return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  }
  proto(v = 2): this {
    return this.raw(0x80, v);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  mark(): this {
    return this.raw(0x28);
  }
  global(module: string, name: string): this {
    return this.raw(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw(0x58, ...this.u32(b.length), ...b);
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.raw(0x4b, v);
    if (v >= 0 && v < 65536) return this.raw(0x4d, v & 0xff, v >>> 8);
    return this.raw(0x4a, ...this.u32(v));
  }
  bool(v: boolean): this {
    return this.raw(v ? 0x88 : 0x89);
  }
  none(): this {
    return this.raw(0x4e);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  tuple1(): this {
    return this.raw(0x85);
  }
  tuple2(): this {
    return this.raw(0x86);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  setItem(): this {
    return this.raw(0x73);
  }
  setItems(): this {
    return this.raw(0x75);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  build(): this {
    return this.raw(0x62);
  }
  binPersId(): this {
    return this.raw(0x51);
  }
  /** Memoize the top of the stack; returns the slot through `slot`. */
  put(slot?: (index: number) => void): this {
    const i = this.memoNext++;
    slot?.(i);
    return i < 256 ? this.raw(0x71, i) : this.raw(0x72, ...this.u32(i));
  }
  get(index: number): this {
    return index < 256 ? this.raw(0x68, index) : this.raw(0x6a, ...this.u32(index));
  }
  intTuple(values: number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface TorchTensorSpec {
  name: string;
  storageKey: string;
  /** e.g. 'FloatStorage'. */
  storageType: string;
  storageNumel: number;
  offset: number;
  shape: number[];
  stride: number[];
  /** Wrap in torch._utils._rebuild_parameter, as nn.Parameter entries are. */
  parameter?: boolean;
}

/** Writes the tensor-rebuilding expression that torch.save emits for one tensor. */
export function writeTorchTensor(w: PickleWriter, t: TorchTensorSpec): void {
  if (t.parameter) w.global('torch._utils', '_rebuild_parameter');
  w.global('torch._utils', '_rebuild_tensor_v2');
  w.mark();
  w.mark().str('storage').global('torch', t.storageType).str(t.storageKey).str('cpu').int(t.storageNumel).tuple();
  w.binPersId();
  w.int(t.offset).intTuple(t.shape).intTuple(t.stride).bool(false);
  w.global('collections', 'OrderedDict').emptyTuple().reduce();
  w.tuple().reduce();
  if (t.parameter) {
    w.bool(true).global('collections', 'OrderedDict').emptyTuple().reduce();
    w.raw(0x87).reduce(); // TUPLE3 (tensor, requires_grad, hooks)
  }
}

/** A torch.save-style pickle of an OrderedDict state dict, optionally wrapped as {wrapKey: sd, epoch: 7}. */
export function torchStateDictPickle(tensors: TorchTensorSpec[], wrapKey?: string): Uint8Array {
  const w = new PickleWriter().proto(2);
  if (wrapKey !== undefined) w.emptyDict().put().mark().str(wrapKey);
  w.global('collections', 'OrderedDict').emptyTuple().reduce().put();
  w.mark();
  for (const t of tensors) {
    w.str(t.name);
    writeTorchTensor(w, t);
  }
  w.setItems();
  // torch attaches `_metadata` to the OrderedDict through BUILD.
  w.emptyDict().str('_metadata').global('collections', 'OrderedDict').emptyTuple().reduce().setItem().build();
  if (wrapKey !== undefined) w.str('epoch').int(7).setItems();
  return w.stop().bytes();
}
