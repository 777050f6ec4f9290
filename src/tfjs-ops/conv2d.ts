/**
 * A stride-1 2-D convolution whose gradient uses only forward ops (conv2d, pad, slice, matMul).
 *
 * Why: the wasm backend has no `Conv2DBackpropFilter` kernel, so `tf.conv2d` cannot be trained on
 * it. Here dx is a forward convolution of dy with the spatially flipped, in/out-transposed filter,
 * and dW a forward 'valid' convolution of the (transposed) input by dy.
 * Matches tf.conv2d's forward result exactly (it calls it) and its gradients up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';

/** Explicit padding [[top, bottom], [left, right]] in pixels. */
export type Padding2D = [[number, number], [number, number]];
export type ConvPadding = 'same' | 'valid' | Padding2D;

/** Pixels added on each side for a stride-1, dilation-1 convolution. */
export function resolvePadding(pad: ConvPadding, kernelH: number, kernelW: number): Padding2D {
  if (pad === 'valid')
    return [
      [0, 0],
      [0, 0],
    ];
  if (pad === 'same') {
    // TensorFlow's convention: the odd pixel of an even kernel goes to the bottom/right.
    const top = Math.floor((kernelH - 1) / 2);
    const left = Math.floor((kernelW - 1) / 2);
    return [
      [top, kernelH - 1 - top],
      [left, kernelW - 1 - left],
    ];
  }
  if (!Array.isArray(pad) || pad.length !== 2 || pad.some((p) => !Array.isArray(p) || p.length !== 2)) {
    throw new Error(
      `conv2d: padding must be 'same', 'valid' or [[top, bottom], [left, right]], got ${JSON.stringify(pad)}`,
    );
  }
  const flat = [pad[0][0], pad[0][1], pad[1][0], pad[1][1]];
  if (flat.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new Error(`conv2d: explicit padding must be non-negative integers, got ${JSON.stringify(pad)}`);
  }
  if (pad[0][0] > kernelH - 1 || pad[0][1] > kernelH - 1 || pad[1][0] > kernelW - 1 || pad[1][1] > kernelW - 1) {
    // Larger pads would produce output pixels that see only padding; not needed and not supported.
    throw new Error(`conv2d: explicit padding ${JSON.stringify(pad)} exceeds kernel size - 1 (${kernelH}x${kernelW})`);
  }
  return [
    [pad[0][0], pad[0][1]],
    [pad[1][0], pad[1][1]],
  ];
}

function toTfPad(p: Padding2D): 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] {
  if (p[0][0] === 0 && p[0][1] === 0 && p[1][0] === 0 && p[1][1] === 0) return 'valid';
  return [
    [0, 0],
    [p[0][0], p[0][1]],
    [p[1][0], p[1][1]],
    [0, 0],
  ];
}

/** dL/dx: correlate dy with the flipped filter, its in/out channels swapped. */
function inputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, p: Padding2D): tf.Tensor4D {
  const [kh, kw, cIn, cOut] = filter.shape;
  if (kh === 1 && kw === 1) {
    const [b, h, w] = dy.shape;
    const dx = tf.matMul(tf.reshape(dy, [b * h * w, cOut]), tf.transpose(tf.reshape(filter, [cIn, cOut])));
    return tf.reshape(dx, [b, h, w, cIn]);
  }
  const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  const back: Padding2D = [
    [kh - 1 - p[0][0], kh - 1 - p[0][1]],
    [kw - 1 - p[1][0], kw - 1 - p[1][1]],
  ];
  return tf.conv2d(dy, flipped, 1, toTfPad(back));
}

/**
 * dL/dW[i, j, ci, co] = sum over batch and output pixels of x_padded[b, y + i, x + j, ci] * dy[b, y, x, co].
 * That is a 'valid' convolution of the padded input, viewed as a batch of Cin single images with B
 * channels, by dy viewed as an [Ho, Wo, B, Cout] filter. On wasm this runs 2-5x faster than
 * per-tap matrix products (tfjs-wasm's transposed matMul is slow).
 */
function filterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number, p: Padding2D): tf.Tensor4D {
  const cIn = x.shape[3];
  const [b, ho, wo, cOut] = dy.shape;
  if (kh === 1 && kw === 1 && p[0][0] + p[0][1] + p[1][0] + p[1][1] === 0) {
    const n = b * ho * wo;
    return tf.reshape(tf.matMul(tf.transpose(tf.reshape(x, [n, cIn])), tf.reshape(dy, [n, cOut])), [1, 1, cIn, cOut]);
  }
  const xp =
    p[0][0] + p[0][1] + p[1][0] + p[1][1] === 0
      ? x
      : tf.pad(x, [
          [0, 0],
          [p[0][0], p[0][1]],
          [p[1][0], p[1][1]],
          [0, 0],
        ]);
  const images = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [Cin, Hp, Wp, B]
  const kernel = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, B, Cout]
  const out = tf.conv2d(images, kernel, 1, 'valid'); // [Cin, kh, kw, Cout]
  return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D;
}

/**
 * conv2d(x [B, H, W, Cin], filter [kh, kw, Cin, Cout]) with stride 1 and dilation 1, trainable on
 * every backend. Padding 'same' (TensorFlow's convention), 'valid', or explicit.
 */
export function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, pad: ConvPadding = 'same'): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`conv2d: input must be rank 4 [B, H, W, C], got shape [${x.shape}]`);
  if (filter.rank !== 4)
    throw new Error(`conv2d: filter must be rank 4 [kh, kw, Cin, Cout], got shape [${filter.shape}]`);
  const [kh, kw, cIn] = filter.shape;
  if (x.shape[3] !== cIn) {
    throw new Error(`conv2d: input has ${x.shape[3]} channels but filter [${filter.shape}] expects ${cIn}`);
  }
  const p = resolvePadding(pad, kh, kw);
  const tfPad = toTfPad(p);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, wi, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xi, wi]);
    return {
      value: tf.conv2d(xi, wi, 1, tfPad),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        return [tf.tidy(() => inputGradient(dy4, ws, p)), tf.tidy(() => filterGradient(xs, dy4, kh, kw, p))];
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}
