/**
 * The allow-list of Python globals that `torch.save` uses for a state dict, implemented as plain
 * TypeScript constructors for the restricted unpickler. Tensors come out as references to storages
 * (key, dtype, element count) plus offset/shape/stride; reading the bytes is the caller's job.
 */
import { DType } from './tensor-record';
import { GlobalSpec, PyDict, PyGlobal, PyKey, PyOpaque, PyTuple, PyValue } from './pickle';

export interface TorchStorageRef extends PyOpaque {
  readonly pyType: 'torch.storage';
  /** Entry name under `<archive>/data/`. */
  readonly key: string;
  readonly dtype: DType;
  /** Number of elements of `dtype` in the storage. */
  readonly numel: number;
  readonly location: string;
}

export interface TorchTensorRef extends PyOpaque {
  readonly pyType: 'torch.tensor';
  readonly storage: TorchStorageRef;
  /** In elements. */
  readonly storageOffset: number;
  readonly shape: number[];
  /** In elements. */
  readonly stride: number[];
}

/** Storage classes named in persistent ids, by their attribute name on `torch`. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** `torch.<dtype>` objects, which may appear as markers. */
const TORCH_DTYPE_NAMES = [
  'float32',
  'float',
  'float16',
  'half',
  'bfloat16',
  'float64',
  'double',
  'int64',
  'long',
  'int32',
  'int',
  'int16',
  'short',
  'int8',
  'uint8',
  'bool',
];

export function isTorchTensorRef(value: PyValue): value is TorchTensorRef {
  return typeof value === 'object' && value !== null && (value as Partial<PyOpaque>).pyType === 'torch.tensor';
}

export function isTorchStorageRef(value: PyValue): value is TorchStorageRef {
  return typeof value === 'object' && value !== null && (value as Partial<PyOpaque>).pyType === 'torch.storage';
}

function asInt(value: PyValue, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (
    typeof value === 'bigint' &&
    value >= BigInt(Number.MIN_SAFE_INTEGER) &&
    value <= BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    return Number(value);
  }
  throw new Error(`${what} must be an integer, got ${describe(value)}`);
}

function asIntTuple(value: PyValue, what: string): number[] {
  if (!(value instanceof PyTuple)) throw new Error(`${what} must be a tuple of integers, got ${describe(value)}`);
  return value.items.map((v, i) => asInt(v, `${what}[${i}]`));
}

function describe(value: PyValue): string {
  if (value === null) return 'None';
  if (value instanceof PyTuple) return 'a tuple';
  if (value instanceof PyDict) return `a ${value.className}`;
  if (value instanceof PyGlobal) return `global ${value.qualifiedName}`;
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'object') return (value as PyOpaque).pyType;
  return `${typeof value} ${String(value)}`;
}

function expectArgs(args: PyValue[], min: number, max: number, where: string): void {
  if (args.length < min || args.length > max) {
    throw new Error(`${where}: expected ${min === max ? min : `${min}-${max}`} arguments, got ${args.length}`);
  }
}

function expectNoHooks(hooks: PyValue, where: string): void {
  // Hooks would be callables; a state dict saved for inference has none, and we never run any.
  if (hooks instanceof PyDict && hooks.items.size === 0) return;
  if (hooks === null) return;
  throw new Error(`${where}: backward hooks are not supported (got ${describe(hooks)})`);
}

function rebuildTensorV2(args: PyValue[], where: string): TorchTensorRef {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  expectArgs(args, 6, 7, where);
  const storage = args[0];
  if (!isTorchStorageRef(storage))
    throw new Error(`${where}: first argument must be a storage, got ${describe(storage)}`);
  const storageOffset = asInt(args[1], `${where}: storage_offset`);
  const shape = asIntTuple(args[2], `${where}: size`);
  const stride = asIntTuple(args[3], `${where}: stride`);
  if (shape.length !== stride.length) {
    throw new Error(`${where}: size has ${shape.length} dims but stride has ${stride.length}`);
  }
  if (typeof args[4] !== 'boolean') throw new Error(`${where}: requires_grad must be a bool, got ${describe(args[4])}`);
  expectNoHooks(args[5], where);
  return { pyType: 'torch.tensor', storage, storageOffset, shape, stride };
}

function rebuildParameter(args: PyValue[], where: string, withState: boolean): TorchTensorRef {
  // (data, requires_grad, backward_hooks[, state]); extra Python attributes in `state` are dropped.
  expectArgs(args, withState ? 4 : 3, withState ? 4 : 3, where);
  const data = args[0];
  if (!isTorchTensorRef(data)) throw new Error(`${where}: data must be a tensor, got ${describe(data)}`);
  if (typeof args[1] !== 'boolean') throw new Error(`${where}: requires_grad must be a bool, got ${describe(args[1])}`);
  expectNoHooks(args[2], where);
  return data;
}

function orderedDict(args: PyValue[], where: string): PyDict {
  expectArgs(args, 0, 1, where);
  const dict = new PyDict('OrderedDict');
  if (args.length === 1 && args[0] !== null) {
    const pairs = args[0];
    if (!Array.isArray(pairs)) throw new Error(`${where}: expected a list of (key, value) pairs`);
    for (const pair of pairs) {
      if (!(pair instanceof PyTuple) || pair.items.length !== 2)
        throw new Error(`${where}: expected (key, value) pairs`);
      const [k, v] = pair.items;
      if (!(k === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof k))) {
        throw new Error(`${where}: unsupported key ${describe(k)}`);
      }
      dict.items.set(k as PyKey, v);
    }
  }
  return dict;
}

/** The allow-list: qualified global name -> TypeScript implementation (or marker). */
export function torchStateDictGlobals(): Map<string, GlobalSpec> {
  const globals = new Map<string, GlobalSpec>();
  globals.set('collections.OrderedDict', { call: orderedDict });
  globals.set('torch._utils._rebuild_tensor_v2', { call: rebuildTensorV2 });
  globals.set('torch._utils._rebuild_parameter', { call: (a, w) => rebuildParameter(a, w, false) });
  globals.set('torch._utils._rebuild_parameter_with_state', { call: (a, w) => rebuildParameter(a, w, true) });
  for (const name of Object.keys(TORCH_STORAGE_DTYPES)) globals.set(`torch.${name}`, {});
  for (const name of TORCH_DTYPE_NAMES) globals.set(`torch.${name}`, {});
  return globals;
}

/**
 * Resolves torch's persistent ids `('storage', <StorageClass>, key, location, numel)` to storage
 * references; anything else is refused.
 */
export function torchPersistentLoad(pid: PyValue, where: string): TorchStorageRef {
  if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
    throw new Error(`${where}: expected ('storage', type, key, location, numel), got ${describe(pid)}`);
  }
  const [, storageType, key, location, numel] = pid.items;
  if (
    !(storageType instanceof PyGlobal) ||
    storageType.module !== 'torch' ||
    !(storageType.name in TORCH_STORAGE_DTYPES)
  ) {
    throw new Error(`${where}: unsupported storage type ${describe(storageType)}`);
  }
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key) || key.includes('..')) {
    throw new Error(`${where}: invalid storage key ${describe(key)}`);
  }
  if (typeof location !== 'string') throw new Error(`${where}: storage location must be a string`);
  return {
    pyType: 'torch.storage',
    key,
    dtype: TORCH_STORAGE_DTYPES[storageType.name],
    numel: asInt(numel, `${where}: storage numel`),
    location,
  };
}
