import {
  GlobalSpec,
  PickleFormatError,
  PickleSecurityError,
  PyDict,
  PyTuple,
  PyValue,
  unpickle,
} from '../../src/io/pickle';
import { PickleWriter } from './helpers/pickle-writer';

const NO_GLOBALS = new Map<string, GlobalSpec>();

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function plain(value: PyValue): unknown {
  if (value instanceof PyTuple) return { tuple: value.items.map(plain) };
  if (value instanceof PyDict) return Object.fromEntries([...value.items].map(([k, v]) => [String(k), plain(v)]));
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  return value;
}

const EXPECTED = {
  a: [1, 2.5, 'x', { tuple: [true, null] }],
  b: -300,
  c: 2n ** 70n,
  d: -(2 ** 31),
  e: { tuple: [1, 2, 3] },
  g: 'héllo',
  h: 70000,
  i: {},
  j: [],
  k: -1.5e-300,
};

describe('restricted unpickler', () => {
  test('decodes a protocol 2 pickle written by CPython', () => {
    // python3: pickle.dumps({'a': [1, 2.5, 'x', (True, None)], 'b': -300, 'c': 2**70, 'd': -2**31,
    //   'e': (1, 2, 3), 'g': 'héllo', 'h': 70000, 'i': {}, 'j': [], 'k': -1.5e-300, 'l': -129}, protocol=2)
    const bytes = fromHex(
      '80027d71002858010000006171015d7102284b014740040000000000005801000000787103884e8671046558010000006271054ad4feffff58010000006371068a0900000000000000004058010000006471074a0000008058010000006571084b014b024b03877109580100000067710a580600000068c3a96c6c6f710b580100000068710c4a70110100580100000069710d7d710e58010000006a710f5d711058010000006b71114781b01297d23ab68358010000006c71124a7fffffff752e',
    );
    expect(plain(unpickle(bytes, { source: 'p2.pkl', globals: NO_GLOBALS }))).toEqual({ ...EXPECTED, l: -129 });
  });

  test('decodes a protocol 4 pickle (frames, short strings, memoize, bytes)', () => {
    // Same dict without 'l' and with 'f': b'\x00\xff', pickled with protocol=4.
    const bytes = fromHex(
      '80049585000000000000007d94288c0161945d94284b014740040000000000008c017894884e8694658c0162944ad4feffff8c0163948a090000000000000000408c0164944a000000808c0165944b014b024b0387948c016694430200ff948c0167948c0668c3a96c6c6f948c0168944a701101008c0169947d948c016a945d948c016b944781b01297d23ab683752e',
    );
    expect(plain(unpickle(bytes, { source: 'p4.pkl', globals: NO_GLOBALS }))).toEqual({
      ...EXPECTED,
      f: { bytes: [0, 255] },
    });
  });

  test('memo references share one object', () => {
    // python3: s = [1, 2]; pickle.dumps([s, s], protocol=2)
    const value = unpickle(fromHex('80025d7100285d7101284b014b02656801652e'), { source: 'm.pkl', globals: NO_GLOBALS });
    expect(Array.isArray(value)).toBe(true);
    const [first, second] = value as PyValue[][];
    expect(first).toBe(second);
    expect(first).toEqual([1, 2]);
  });

  test('protocol 2 bytes go through _codecs.encode, which is not allowed', () => {
    // python3: pickle.dumps(b'\x00', protocol=2)
    const bytes = fromHex(
      '8002635f636f646563730a656e636f64650a7100580100000000710158060000006c6174696e3171028671035271042e',
    );
    expect(() => unpickle(bytes, { source: 'b.pkl', globals: NO_GLOBALS })).toThrow(PickleSecurityError);
  });

  describe('refuses code execution', () => {
    const evil: Array<[string, string, string]> = [
      ['os', 'system', 'os.system'],
      ['posix', 'system', 'posix.system'],
      ['builtins', 'eval', 'builtins.eval'],
      ['__builtin__', 'eval', '__builtin__.eval'],
      ['subprocess', 'Popen', 'subprocess.Popen'],
    ];
    test.each(evil)('GLOBAL %s %s', (module, name, qualified) => {
      const calls: string[] = [];
      const allowed = new Map<string, GlobalSpec>([
        [
          'collections.OrderedDict',
          {
            call: () => {
              calls.push('od');
              return new PyDict();
            },
          },
        ],
      ]);
      const bytes = new PickleWriter()
        .proto(2)
        .global(module, name)
        .str('touch /tmp/x')
        .tuple1()
        .reduce()
        .stop()
        .bytes();
      let error: unknown;
      try {
        unpickle(bytes, { source: 'evil.pkl', globals: allowed });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(PickleSecurityError);
      expect((error as PickleSecurityError).globalName).toBe(qualified);
      expect((error as Error).message).toContain(`evil.pkl: refusing pickle global '${qualified}' (opcode at byte 2)`);
      expect(calls).toEqual([]);
    });

    test('STACK_GLOBAL is checked the same way', () => {
      const bytes = new PickleWriter()
        .proto(4)
        .raw(0x8c, 2, ...Buffer.from('os'))
        .raw(0x8c, 6, ...Buffer.from('system'))
        .raw(0x93)
        .stop()
        .bytes();
      expect(() => unpickle(bytes, { source: 'sg.pkl', globals: NO_GLOBALS })).toThrow(
        /refusing pickle global 'os\.system'/,
      );
    });

    test('a marker global cannot be called', () => {
      const globals = new Map<string, GlobalSpec>([['torch.FloatStorage', {}]]);
      const bytes = new PickleWriter().proto(2).global('torch', 'FloatStorage').emptyTuple().reduce().stop().bytes();
      expect(() => unpickle(bytes, { source: 'm.pkl', globals })).toThrow(/'torch\.FloatStorage'.*only as a marker/);
    });

    test('REDUCE on a non-global is refused', () => {
      const bytes = new PickleWriter().proto(2).str('os.system').emptyTuple().reduce().stop().bytes();
      expect(() => unpickle(bytes, { source: 'r.pkl', globals: NO_GLOBALS })).toThrow(
        /REDUCE to something that is not an allowed global/,
      );
    });

    test.each([
      ['INST', 0x69],
      ['OBJ', 0x6f],
      ['NEWOBJ', 0x81],
      ['EXT1', 0x82],
    ])('opcode %s is refused with its byte value and offset', (name, op) => {
      const bytes = new PickleWriter().proto(2).none().raw(op).stop().bytes();
      expect(() => unpickle(bytes, { source: 'o.pkl', globals: NO_GLOBALS })).toThrow(
        new RegExp(`o\\.pkl: unsupported pickle opcode ${name} \\(0x${op.toString(16)}\\) at byte 3`),
      );
    });

    test('unknown opcodes are refused with byte value and offset', () => {
      const bytes = new PickleWriter().proto(2).emptyDict().raw(0xff).stop().bytes();
      expect(() => unpickle(bytes, { source: 'u.pkl', globals: NO_GLOBALS })).toThrow(
        /u\.pkl: unknown pickle opcode 0xff at byte 3/,
      );
    });
  });

  describe('malformed pickles', () => {
    test.each<[string, Uint8Array, RegExp]>([
      ['truncated string', new PickleWriter().proto(2).raw(0x58, 10, 0, 0, 0, 0x61).bytes(), /truncated/],
      ['no STOP', new PickleWriter().proto(2).none().bytes(), /truncated/],
      ['unset memo', new PickleWriter().proto(2).get(5).stop().bytes(), /memo slot 5/],
      ['empty stack', new PickleWriter().proto(2).tuple1().stop().bytes(), /empty stack/],
      ['leftover values', new PickleWriter().proto(2).none().none().stop().bytes(), /stops with 2 values/],
      [
        'SETITEM on a list',
        new PickleWriter().proto(2).raw(0x5d).str('k').none().setItem().stop().bytes(),
        /not a dict/,
      ],
    ])('%s', (_label, bytes, pattern) => {
      expect(() => unpickle(bytes, { source: 'bad.pkl', globals: NO_GLOBALS })).toThrow(PickleFormatError);
      expect(() => unpickle(bytes, { source: 'bad.pkl', globals: NO_GLOBALS })).toThrow(pattern);
    });
  });

  test('BUILD stores dict state as attributes', () => {
    const globals = new Map<string, GlobalSpec>([
      ['collections.OrderedDict', { call: () => new PyDict('OrderedDict') }],
    ]);
    const bytes = new PickleWriter()
      .proto(2)
      .global('collections', 'OrderedDict')
      .emptyTuple()
      .reduce()
      .str('w')
      .int(3)
      .setItem()
      .emptyDict()
      .str('_metadata')
      .int(1)
      .setItem()
      .build()
      .stop()
      .bytes();
    const value = unpickle(bytes, { source: 'b.pkl', globals }) as PyDict;
    expect(value.className).toBe('OrderedDict');
    expect(value.items.get('w')).toBe(3);
    expect(value.attributes.get('_metadata')).toBe(1);
  });
});
