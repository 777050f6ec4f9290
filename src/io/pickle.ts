/**
 * A restricted unpickler: a small interpreter for the data-building subset of Python's pickle format
 * (protocols 2 to 4). It never evaluates anything from the file. A GLOBAL is looked up in an
 * allow-list supplied by the caller and refused on the spot when missing; REDUCE can only apply an
 * allow-listed global whose behaviour is implemented here in TypeScript. Opcodes that would create
 * arbitrary objects (INST, OBJ, NEWOBJ, EXT*) and unknown opcodes are refused with their byte value
 * and offset.
 */

/** A Python tuple (kept apart from lists so that callers can tell them apart). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export type PyKey = string | number | bigint | boolean | null;

/** A Python dict (or OrderedDict); `attributes` holds state set by BUILD (e.g. `_metadata`). */
export class PyDict {
  readonly items = new Map<PyKey, PyValue>();
  readonly attributes = new Map<string, PyValue>();
  constructor(readonly className: string = 'dict') {}
}

/** A reference to an allow-listed global, as pushed by GLOBAL / STACK_GLOBAL. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly spec: GlobalSpec,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Objects produced by allow-listed constructors implemented in TypeScript. */
export interface PyOpaque {
  readonly pyType: string;
}

export type PyValue =
  null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyGlobal | PyOpaque;

/** What an allow-listed global may do. Without `call`, it is only a marker (e.g. a storage type). */
export interface GlobalSpec {
  call?: (args: PyValue[], where: string) => PyValue;
}

export interface UnpickleOptions {
  /** Names the file in errors. */
  source: string;
  /** Allowed globals by qualified name, e.g. `collections.OrderedDict`. */
  globals: ReadonlyMap<string, GlobalSpec>;
  /** Resolves BINPERSID ids; without it, persistent ids are refused. */
  persistentLoad?: (pid: PyValue, where: string) => PyValue;
}

/** A pickle asked for something outside the allow-list; nothing was executed. */
export class PickleSecurityError extends Error {
  constructor(
    message: string,
    readonly globalName: string,
  ) {
    super(message);
    this.name = 'PickleSecurityError';
  }
}

/** The pickle is malformed or uses an opcode this unpickler does not support. */
export class PickleFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleFormatError';
  }
}

/** Opcodes understood by standard pickle that this unpickler deliberately refuses. */
const REFUSED_OPCODES: Readonly<Record<number, string>> = {
  0x49: 'INT',
  0x4c: 'LONG',
  0x53: 'STRING',
  0x56: 'UNICODE',
  0x46: 'FLOAT',
  0x70: 'PUT',
  0x67: 'GET',
  0x50: 'PERSID',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

function isKey(value: PyValue): value is PyKey {
  const t = typeof value;
  return value === null || t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean';
}

/** Interpret `bytes` as a pickle under the given allow-list and return the resulting value. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PyValue {
  const { source, globals, persistentLoad } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  let opStart = 0;

  const fail = (message: string): never => {
    throw new PickleFormatError(`${source}: pickle ${message} (opcode at byte ${opStart})`);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) fail(`is truncated (needs ${n} more bytes at ${pos})`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => bytes[need(1)];
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const i32 = (): number => view.getInt32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`has an impossible length ${v}`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    const at = need(n);
    return bytes.subarray(at, at + n);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('has an unterminated text line');
    const text = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]))
      fail('pops an empty stack');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail('reads an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('has no MARK to pop to');
    return stack.splice(m as number);
  };
  const text = (raw: Uint8Array): string => {
    try {
      return utf8.decode(raw);
    } catch {
      return fail('has a string that is not valid UTF-8');
    }
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const qualified = `${module}.${name}`;
    const spec = globals.get(qualified);
    if (spec === undefined) {
      throw new PickleSecurityError(
        `${source}: refusing pickle global '${qualified}' (opcode at byte ${opStart}): it is not on the allow-list ` +
          `(${[...globals.keys()].sort().join(', ')}). Nothing from the file was executed.`,
        qualified,
      );
    }
    return new PyGlobal(module, name, spec);
  };
  const dictOf = (target: PyValue, op: string): PyDict => {
    if (!(target instanceof PyDict)) fail(`applies ${op} to something that is not a dict`);
    return target as PyDict;
  };
  const setItem = (dict: PyDict, key: PyValue, value: PyValue): void => {
    if (!isKey(key)) fail('uses a dict key that is not a string, number, bool or None');
    dict.items.set(key as PyKey, value);
  };
  const signedLE = (raw: Uint8Array): number | bigint => {
    if (raw.length === 0) return 0;
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (raw[raw.length - 1] & 0x80) v -= 1n << BigInt(8 * raw.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    opStart = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('uses a protocol newer than 5');
        break;
      case 0x95: // FRAME: framing is only a read-ahead hint
        u64();
        break;
      case 0x2e: {
        // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`stops with ${stack.length} values on the stack`);
        return stack[0];
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(signedLE(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) fail('has a negative LONG4 length');
        stack.push(signedLE(take(n)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian IEEE double)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(take(u64())));
        break;
      case 0x54: {
        // BINSTRING (Python 2 str, read as latin1 text)
        const n = i32();
        if (n < 0) fail('has a negative BINSTRING length');
        stack.push(latin1.decode(take(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const value = pop();
        const list = top();
        if (!Array.isArray(list)) fail('appends to something that is not a list');
        (list as PyValue[]).push(value);
        break;
      }
      case 0x65: {
        // APPENDS
        const values = popMark();
        const list = top();
        if (!Array.isArray(list)) fail('appends to something that is not a list');
        (list as PyValue[]).push(...values);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const flat = popMark();
        if (flat.length % 2 !== 0) fail('builds a dict from an odd number of items');
        const dict = new PyDict();
        for (let i = 0; i < flat.length; i += 2) setItem(dict, flat[i], flat[i + 1]);
        stack.push(dict);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItem(dictOf(top(), 'SETITEM'), key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const flat = popMark();
        if (flat.length % 2 !== 0) fail('sets an odd number of dict items');
        const dict = dictOf(top(), 'SETITEMS');
        for (let i = 0; i < flat.length; i += 2) setItem(dict, flat[i], flat[i + 1]);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('has a STACK_GLOBAL without string names');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE: only allow-listed constructors implemented in TypeScript can be applied.
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PyGlobal)) fail('applies REDUCE to something that is not an allowed global');
        const fn = callable as PyGlobal;
        if (!(args instanceof PyTuple)) fail(`calls ${fn.qualifiedName} with arguments that are not a tuple`);
        if (fn.spec.call === undefined) {
          throw new PickleSecurityError(
            `${source}: pickle calls '${fn.qualifiedName}' (opcode at byte ${opStart}), which is allowed only as a marker, not as a callable`,
            fn.qualifiedName,
          );
        }
        stack.push(fn.spec.call((args as PyTuple).items, `${source}: ${fn.qualifiedName} (opcode at byte ${opStart})`));
        break;
      }
      case 0x62: {
        // BUILD: only attribute state on dicts (OrderedDict's `_metadata`), stored as plain data.
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict)) fail('applies BUILD to an object that is not a dict');
        let attrs: PyValue = state;
        if (state instanceof PyTuple && state.items.length === 2) {
          if (state.items[1] !== null) fail('applies BUILD with slot state, which is not supported');
          attrs = state.items[0];
        }
        if (attrs === null) break;
        if (!(attrs instanceof PyDict)) fail('applies BUILD with state that is not a dict');
        for (const [k, v] of (attrs as PyDict).items) {
          if (typeof k !== 'string') fail('applies BUILD with a non-string attribute name');
          (target as PyDict).attributes.set(k as string, v);
        }
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (persistentLoad === undefined) fail('uses persistent ids, which this file type does not allow');
        stack.push(
          (persistentLoad as NonNullable<typeof persistentLoad>)(
            pid,
            `${source}: persistent id (opcode at byte ${opStart})`,
          ),
        );
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const index = op === 0x68 ? u8() : u32();
        if (!memo.has(index)) fail(`reads memo slot ${index}, which was never set`);
        stack.push(memo.get(index) as PyValue);
        break;
      }
      default: {
        const known = REFUSED_OPCODES[op];
        throw new PickleFormatError(
          known !== undefined
            ? `${source}: unsupported pickle opcode ${known} (${hex(op)}) at byte ${opStart}`
            : `${source}: unknown pickle opcode ${hex(op)} at byte ${opStart}`,
        );
      }
    }
  }
}
