import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { PickleSecurityError } from '../../src/io/pickle';
import { loadPth, openPth, readPth } from '../../src/io/pth';
import { readSafetensors } from '../../src/io/safetensors';
import { TensorData } from '../../src/io/tensor-record';
import { PickleWriter, torchStateDictPickle, TorchTensorSpec, writeTorchTensor } from './helpers/pickle-writer';
import { buildZip, ZipInput } from './helpers/zip-writer';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/sam/tiny');

function bytesOf(data: TensorData): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A torch-style zip checkpoint: `<archive>/data.pkl`, optional byteorder, `<archive>/data/<key>`. */
function buildPth(pickle: Uint8Array, storages: Record<string, Uint8Array>, byteorder?: string): Uint8Array {
  const entries: ZipInput[] = [{ name: 'arc/data.pkl', data: pickle }];
  if (byteorder !== undefined) entries.push({ name: 'arc/byteorder', data: Buffer.from(byteorder) });
  for (const [key, data] of Object.entries(storages)) entries.push({ name: `arc/data/${key}`, data });
  entries.push({ name: 'arc/version', data: Buffer.from('3\n') });
  return buildZip(entries);
}

function le32(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function be32(values: number[]): Uint8Array {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeFloatBE(v, i * 4));
  return out;
}

const F = (
  name: string,
  offset: number,
  shape: number[],
  stride: number[],
  extra: Partial<TorchTensorSpec> = {},
): TorchTensorSpec => ({
  name,
  storageKey: '0',
  storageType: 'FloatStorage',
  storageNumel: 12,
  offset,
  shape,
  stride,
  ...extra,
});

/** Views of one 12-element storage holding 0..11, with the values each view must produce. */
const VIEWS: Array<[TorchTensorSpec, number[]]> = [
  [F('full', 0, [3, 4], [4, 1]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
  [F('transposed', 0, [4, 3], [1, 4], { parameter: true }), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]],
  [F('slice', 5, [2], [1]), [5, 6]],
  [F('strided', 1, [2, 2], [4, 2]), [1, 3, 5, 7]],
  [F('scalar', 11, [], []), [11]],
  [F('expanded', 0, [2, 3], [0, 1]), [0, 1, 2, 0, 1, 2]],
  [F('sliced3d', 1, [2, 1, 2], [6, 1, 3]), [1, 4, 7, 10]],
];

describe('loadPth', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pth-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the fixture .pth holds exactly the tensors of the fixture .safetensors (bit-exact)', async () => {
    const fromPth = await readPth(path.join(FIXTURES, 'weights.pth'));
    const { tensors: fromSt } = await readSafetensors(path.join(FIXTURES, 'weights.safetensors'));
    expect(fromPth.from).toBe('top-level');
    expect([...fromPth.tensors.keys()]).toEqual([...fromSt.keys()]);
    for (const [name, expected] of fromSt) {
      const actual = fromPth.tensors.get(name);
      expect({ name, dtype: actual?.dtype, shape: actual?.shape }).toEqual({
        name,
        dtype: expected.dtype,
        shape: expected.shape,
      });
      if (Buffer.compare(bytesOf(actual?.data as TensorData), bytesOf(expected.data)) !== 0) {
        throw new Error(`tensor '${name}' differs between weights.pth and weights.safetensors`);
      }
    }
  });

  test('materialises strided views, offsets and shared storages contiguously', async () => {
    const storage = Array.from({ length: 12 }, (_, i) => i);
    const specs: TorchTensorSpec[] = [
      ...VIEWS.map(([spec]) => spec),
      {
        name: 'half',
        storageKey: '1',
        storageType: 'HalfStorage',
        storageNumel: 2,
        offset: 0,
        shape: [2],
        stride: [1],
      },
      {
        name: 'long',
        storageKey: '2',
        storageType: 'LongStorage',
        storageNumel: 2,
        offset: 0,
        shape: [2],
        stride: [1],
      },
    ];
    const file = path.join(dir, 'views.pth');
    fs.writeFileSync(
      file,
      buildPth(
        torchStateDictPickle(specs),
        {
          '0': le32(storage),
          '1': new Uint8Array(Uint16Array.from([0x3c00, 0xc000]).buffer),
          '2': new Uint8Array(BigInt64Array.from([5n, -1n]).buffer),
        },
        'little',
      ),
    );
    const record = await loadPth(file);
    for (const [spec, expected] of VIEWS) {
      const t = record.get(spec.name);
      expect({ name: spec.name, shape: t?.shape, values: Array.from(t?.data as Float32Array) }).toEqual({
        name: spec.name,
        shape: spec.shape,
        values: expected,
      });
    }
    // Views of one storage must not alias each other.
    expect(record.get('full')?.data.buffer).not.toBe(record.get('slice')?.data.buffer);
    expect(record.get('half')).toEqual({ dtype: 'float16', shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) });
    expect(record.get('long')).toEqual({ dtype: 'int64', shape: [2], data: BigInt64Array.from([5n, -1n]) });

    // Opened for one tensor at a time: every dtype and shape before any read, then the same tensors,
    // read in any order, each in an array of its own.
    const reader = await openPth(file);
    try {
      expect([...reader.entries]).toEqual([...record].map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape }]));
      for (const name of [...record.keys()].reverse()) expect(reader.readSync(name)).toEqual(record.get(name));
      expect(reader.readSync('full').data.buffer).not.toBe(reader.readSync('full').data.buffer);
      expect(() => reader.readSync('missing')).toThrow(/views\.pth: no tensor 'missing'/);
    } finally {
      await reader.close();
    }
  });

  test('big-endian checkpoints are converted, also when whole-storage views share a storage', async () => {
    const file = path.join(dir, 'be.pth');
    const specs = [VIEWS[1][0], F('flat', 0, [12], [1]), VIEWS[0][0]];
    fs.writeFileSync(
      file,
      buildPth(torchStateDictPickle(specs), { '0': be32(Array.from({ length: 12 }, (_, i) => i)) }, 'big'),
    );
    const record = await loadPth(file);
    expect(Array.from(record.get('transposed')?.data as Float32Array)).toEqual(VIEWS[1][1]);
    expect(Array.from(record.get('flat')?.data as Float32Array)).toEqual(VIEWS[0][1]);
    expect(Array.from(record.get('full')?.data as Float32Array)).toEqual(VIEWS[0][1]);
    expect(record.get('flat')?.data.buffer).not.toBe(record.get('full')?.data.buffer);
  });

  test.each(['model', 'state_dict'])("accepts a state dict wrapped under '%s'", async (key) => {
    const file = path.join(dir, 'wrapped.pth');
    fs.writeFileSync(
      file,
      buildPth(torchStateDictPickle([VIEWS[2][0]], key), { '0': le32(Array.from({ length: 12 }, (_, i) => i)) }),
    );
    const { tensors, from } = await readPth(file);
    expect(from).toBe(key);
    expect([...tensors.keys()]).toEqual(['slice']);
  });

  describe('malicious pickles are refused without running anything', () => {
    test.each([
      ['os', 'system', (marker: string) => `touch ${marker}`],
      ['builtins', 'eval', (marker: string) => `open(${JSON.stringify(marker)}, 'w').close()`],
      ['posix', 'system', (marker: string) => `touch ${marker}`],
    ])('%s.%s', async (module, name, command) => {
      const marker = path.join(dir, `${module}-${name}-ran`);
      // A plausible state dict whose second value is the payload: GLOBAL module name; (command,); REDUCE.
      const w = new PickleWriter().proto(2);
      w.global('collections', 'OrderedDict').emptyTuple().reduce().put();
      w.mark().str('ok');
      writeTorchTensor(w, VIEWS[2][0]);
      w.str('payload').global(module, name).str(command(marker)).tuple1().reduce();
      w.setItems().stop();
      const file = path.join(dir, 'evil.pth');
      fs.writeFileSync(file, buildPth(w.bytes(), { '0': le32(Array.from({ length: 12 }, (_, i) => i)) }));

      const result = loadPth(file);
      await expect(result).rejects.toBeInstanceOf(PickleSecurityError);
      await expect(result).rejects.toThrow(`refusing pickle global '${module}.${name}'`);
      await expect(result).rejects.toThrow(file);
      expect(fs.existsSync(marker)).toBe(false);
    });
  });

  test('legacy (pre-1.6) checkpoints are refused with a conversion hint', async () => {
    const file = path.join(dir, 'legacy.pth');
    fs.writeFileSync(file, Buffer.from('80028a0a6cfc9c46f9206aa85019e803', 'hex'));
    await expect(loadPth(file)).rejects.toThrow(
      /legacy\.pth: legacy \(pre-1\.6\) PyTorch serialization.*torch >= 1\.6/,
    );
    const junk = path.join(dir, 'junk.pth');
    fs.writeFileSync(junk, 'hello world, not a checkpoint');
    await expect(loadPth(junk)).rejects.toThrow(/junk\.pth: not a PyTorch zip checkpoint/);
  });

  describe('inconsistent checkpoints fail naming the tensor', () => {
    const storage12 = le32(Array.from({ length: 12 }, (_, i) => i));
    test.each<[string, () => Uint8Array, RegExp]>([
      [
        'missing storage',
        () => buildPth(torchStateDictPickle([VIEWS[0][0]]), {}),
        /tensor 'full': storage entry 'arc\/data\/0' is missing/,
      ],
      [
        'view past the storage',
        () => buildPth(torchStateDictPickle([F('big', 4, [3, 4], [4, 1])]), { '0': storage12 }),
        /tensor 'big': view \(offset 4.*reaches element 15 of a storage of 12/,
      ],
      [
        'storage of the wrong size',
        () => buildPth(torchStateDictPickle([VIEWS[0][0]]), { '0': le32([1, 2]) }),
        /tensor 'full': storage 0 has 8 bytes, expected 12 x float32/,
      ],
      [
        'no state dict',
        () => buildPth(new PickleWriter().proto(2).emptyDict().str('epoch').int(3).setItem().stop().bytes(), {}),
        /not a state dict.*'model' or 'state_dict'/,
      ],
      [
        'two pickles',
        () =>
          buildZip([
            { name: 'a/data.pkl', data: new Uint8Array(1) },
            { name: 'b/data.pkl', data: new Uint8Array(1) },
          ]),
        /exactly one data\.pkl/,
      ],
    ])('%s', async (_label, make, pattern) => {
      const file = path.join(dir, 'broken.pth');
      fs.writeFileSync(file, make());
      await expect(loadPth(file)).rejects.toThrow(pattern);
    });
  });
});
