/**
 * A stride-1, 'same'-padded 2-D convolution on the packed SIMD product (simd/kernels.c,
 * `conv2d_same`), for inference where that product is the faster path: SAM's 3x3 neck
 * convolution (2.4 GMAC per image), which XNNPACK's convolution runs at ~10-12 GMAC/s here.
 * The filter is packed once; each call gathers input patches block by block inside the kernel.
 * Returns null where the kernels are not loaded; whether the packed path is the faster one
 * (`packedMatMulPreferred()`) is the caller's choice, as for packedMatMul.
 */
import * as tf from '@tensorflow/tfjs';
import { heapAddress, lazyWasmKernel, withScratch, type WasmHeapBackend } from './wasm-heap';
import { simdKernels } from './simd/simd-module';
import { packedInputs, packMatrix, type PackedMatrix } from './packed-matmul';

/** A [kh, kw, Cin, Cout] filter packed as its [kh * kw * Cin, Cout] view. */
export interface PackedConvFilter extends PackedMatrix {
  readonly kh: number;
  readonly kw: number;
  readonly inChannels: number;
}

const KERNEL = 'AlignSamConv2dSame';
const register = lazyWasmKernel(KERNEL, ({ inputs, attrs, backend }) => {
  const { x, panels, bias8 } = inputs as { x: tf.TensorInfo; panels: tf.TensorInfo; bias8?: tf.TensorInfo };
  const { kh, kw, n } = attrs as unknown as { kh: number; kw: number; n: number };
  const be = backend as unknown as WasmHeapBackend;
  const kernels = simdKernels()!;
  const [h, w, c] = x.shape;
  const out = be.makeOutput([h, w, n], 'float32');
  withScratch(be, kernels.conv_work_floats(kh * kw * c), (work) =>
    kernels.conv2d_same(
      heapAddress(be, x),
      h,
      w,
      c,
      kh,
      kw,
      heapAddress(be, panels),
      bias8 ? heapAddress(be, bias8) : 0,
      heapAddress(be, out),
      n,
      work,
    ),
  );
  return out;
});

/** Pack a filter [kh, kw, Cin, Cout] (and an optional bias [Cout]); null where the kernels are not loaded. */
export function packConvFilter(filter: tf.Tensor4D, bias: tf.Tensor1D | null = null): PackedConvFilter | null {
  const [kh, kw, inChannels, outChannels] = filter.shape;
  const view = filter.reshape([kh * kw * inChannels, outChannels]) as tf.Tensor2D;
  try {
    const packed = packMatrix(view, { bias });
    return packed ? { ...packed, kh, kw, inChannels } : null;
  } finally {
    view.dispose();
  }
}

/**
 * x [H, W, Cin] convolved with the packed filter, stride 1, TensorFlow's 'same' padding ->
 * [H, W, Cout]; null where the kernels are not loaded.
 */
export function packedConv2dSame(x: tf.Tensor3D, filter: PackedConvFilter, differentiable = false): tf.Tensor3D | null {
  if (differentiable || !simdKernels() || x.dtype !== 'float32') return null;
  if (x.shape[2] !== filter.inChannels) {
    throw new Error(`packedConv2dSame: x [${x.shape}] has ${x.shape[2]} channels, the filter ${filter.inChannels}`);
  }
  register();
  return tf.engine().runKernel(KERNEL, { x, ...packedInputs(filter) }, {
    kh: filter.kh,
    kw: filter.kw,
    n: filter.n,
  } as unknown as tf.NamedAttrMap) as tf.Tensor3D;
}
