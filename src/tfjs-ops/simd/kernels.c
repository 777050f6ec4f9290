/*
 * The project's own WebAssembly SIMD kernels, run on tfjs-wasm's heap (this module imports the
 * backend's memory and works on the tensors in place). Built by scripts/build-simd-kernels.sh into
 * kernels.wasm, which src/tfjs-ops/simd/kernels-wasm.ts embeds.
 *
 * Why they exist: tfjs-wasm computes erf one value at a time (~9-14 ns per value here) and runs a
 * layer norm or a GELU as several separate passes through the engine; SAM runs GELUs over 25M
 * values and softmaxes over 200M scores per ViT-B image. These loops do each in one pass, four
 * lanes at a time.
 *
 * Rules that keep the module safe to share tfjs's memory: no static data, no stack (scalars and
 * vectors only; wasm locals are registers), no allocation. Every pointer is a byte offset into
 * tfjs-wasm's heap handed over by the TypeScript side.
 */
#include <wasm_simd128.h>

typedef v128_t f4;

#define SPLAT(c) wasm_f32x4_splat(c)

/*
 * acc + a * b. The module is built twice (scripts/build-simd-kernels.sh): with relaxed SIMD this is
 * one fused multiply-add (one instruction where the CPU has FMA, and V8's register tiles then run
 * ~1.4-1.7x faster here); without, a multiply and an add. The matrix products and the softmax's
 * exp use it (the softmax tests hold both builds to the same tolerance); erf keeps separately
 * rounded steps, so GELU's fitted error bound holds in both builds.
 */
#ifdef __wasm_relaxed_simd__
#define MADD(acc, a, b) ((f4)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(acc)))
#else
#define MADD(acc, a, b) wasm_f32x4_add(acc, wasm_f32x4_mul(a, b))
#endif

/*
 * erf(x) for float32: x * P(x^2) / Q(x^2) on |x| <= 3.925 (beyond it erf rounds to +-1 in
 * float32). Coefficients fitted for this project (least squares on 4000 Chebyshev-spaced points,
 * scripts/fit-simd-polynomials.py); max abs error 3.9e-7 in float32 arithmetic.
 */
static inline f4 erf4(f4 x) {
  const f4 lim = SPLAT(3.925f);
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_neg(lim)), lim);
  const f4 s = wasm_f32x4_mul(x, x);
  f4 p = SPLAT(2.1257997e-06f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s), SPLAT(2.8292646e-04f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s), SPLAT(3.5533593e-03f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s), SPLAT(5.2092463e-02f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s), SPLAT(1.8507183e-01f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s), SPLAT(1.1283791e+00f));
  f4 q = SPLAT(3.8779152e-05f);
  q = wasm_f32x4_add(wasm_f32x4_mul(q, s), SPLAT(1.1165717e-03f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, s), SPLAT(1.4537962e-02f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, s), SPLAT(1.1194963e-01f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, s), SPLAT(4.9734885e-01f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, s), SPLAT(1.0f));
  return wasm_f32x4_div(wasm_f32x4_mul(x, p), q);
}

/*
 * exp(x) for x <= 0 (softmax arguments after the max is subtracted): 2^n * e^r with
 * n = round(x / ln2), |r| <= ln2/2, e^r by a degree-5 polynomial.
 * Below -87 the result flushes to 0, as float32 exp would underflow there.
 * Rounding uses the 1.5 * 2^23 trick: adding it leaves n in the low mantissa bits, which then
 * become 2^n's exponent by integer ops (V8 lowers f32x4.nearest and float->int conversion to long
 * sequences on x86; pmin/pmax map to single instructions where min/max do not).
 */
static inline f4 expNeg4(f4 x) {
  const f4 lo = SPLAT(-87.0f);
  const f4 under = wasm_f32x4_lt(x, lo);
  x = wasm_f32x4_pmax(x, lo);
  const f4 magic = SPLAT(12582912.0f);
  const f4 t = MADD(magic, x, SPLAT(1.44269504f));
  const f4 n = wasm_f32x4_sub(t, magic);
  /* ln2 split in two so that n*ln2 is subtracted without losing r's low bits. */
  f4 r = MADD(x, n, SPLAT(-0.693145752f));
  r = MADD(r, n, SPLAT(-1.42860677e-06f));
  /* e^r = 1 + r + r^2 P(r), P fitted by scripts/fit-simd-polynomials.py (rel. error 1.9e-7). */
  f4 p = SPLAT(0.0083125289529562f);
  p = MADD(SPLAT(0.04189012199640274f), p, r);
  p = MADD(SPLAT(0.16667114198207855f), p, r);
  p = MADD(SPLAT(0.499992311000824f), p, r);
  p = wasm_f32x4_add(MADD(r, wasm_f32x4_mul(p, r), r), SPLAT(1.0f));
  /* t's bits are 0x4B400000 + n; n in [-126, 0], so (n + 127) << 23 is 2^n as a normal float. */
  const v128_t bits = wasm_i32x4_shl(wasm_i32x4_add(t, wasm_i32x4_splat(127 - 0x4B400000)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(p, bits), under);
}

static inline float hsum(f4 v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

static inline float hmax(f4 v) {
  float a = wasm_f32x4_extract_lane(v, 0), b = wasm_f32x4_extract_lane(v, 1);
  float c = wasm_f32x4_extract_lane(v, 2), d = wasm_f32x4_extract_lane(v, 3);
  a = a > b ? a : b;
  c = c > d ? c : d;
  return a > c ? a : c;
}

/* z + z * erf(z): sqrt2 * GELU(sqrt2 * z), the form the mask decoder folds its scales into. */
static inline f4 scaledGelu4(f4 z) { return wasm_f32x4_add(z, wasm_f32x4_mul(z, erf4(z))); }

/* Exact GELU: 0.5 x (1 + erf(x / sqrt2)). */
static inline f4 gelu4(f4 x) {
  const f4 e = erf4(wasm_f32x4_mul(x, SPLAT(0.70710678f)));
  return wasm_f32x4_mul(wasm_f32x4_mul(x, SPLAT(0.5f)), wasm_f32x4_add(e, SPLAT(1.0f)));
}

static inline float scaledGelu1(float z) { return wasm_f32x4_extract_lane(scaledGelu4(SPLAT(z)), 0); }
static inline float gelu1(float x) { return wasm_f32x4_extract_lane(gelu4(SPLAT(x)), 0); }

enum { ACT_NONE = 0, ACT_GELU = 1, ACT_SCALED_GELU = 2 };

/* y = act(x) over n values; y may equal x. */
__attribute__((export_name("gelu")))
void gelu(const float* x, float* y, int n, int act) {
  int i = 0;
  if (act == ACT_SCALED_GELU) {
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, scaledGelu4(wasm_v128_load(x + i)));
    for (; i < n; i++) y[i] = scaledGelu1(x[i]);
  } else {
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, gelu4(wasm_v128_load(x + i)));
    for (; i < n; i++) y[i] = gelu1(x[i]);
  }
}

/*
 * Layer norm over the last axis of x [rows, c] (biased variance, two passes: mean, then centred
 * squares), then optionally a GELU; y [rows, c]. When yT is not null, the result is also written
 * transposed, [c, rows] (the mask decoder multiplies by the image tokens from the left, and a
 * transposed copy lets XNNPACK take them as the streamed operand instead of repacking them).
 * When stats is not null, each row's mean and 1/sqrt(var + eps) go to stats [rows, 2].
 */
__attribute__((export_name("layer_norm")))
void layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* yT, float* stats, int rows, int c, float eps, int act) {
  const int c4 = c & ~3;
  const float invC = 1.0f / (float)c;
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (long)r * c;
    float* yr = y + (long)r * c;
    f4 acc0 = SPLAT(0.0f), acc1 = SPLAT(0.0f);
    int k = 0;
    for (; k + 8 <= c4; k += 8) {
      acc0 = wasm_f32x4_add(acc0, wasm_v128_load(xr + k));
      acc1 = wasm_f32x4_add(acc1, wasm_v128_load(xr + k + 4));
    }
    for (; k < c4; k += 4) acc0 = wasm_f32x4_add(acc0, wasm_v128_load(xr + k));
    float sum = hsum(wasm_f32x4_add(acc0, acc1));
    for (; k < c; k++) sum += xr[k];
    const float mean = sum * invC;
    const f4 m4 = SPLAT(mean);
    acc0 = SPLAT(0.0f);
    acc1 = SPLAT(0.0f);
    k = 0;
    for (; k + 8 <= c4; k += 8) {
      const f4 d0 = wasm_f32x4_sub(wasm_v128_load(xr + k), m4);
      const f4 d1 = wasm_f32x4_sub(wasm_v128_load(xr + k + 4), m4);
      acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(d0, d0));
      acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(d1, d1));
    }
    for (; k < c4; k += 4) {
      const f4 d0 = wasm_f32x4_sub(wasm_v128_load(xr + k), m4);
      acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(d0, d0));
    }
    float sq = hsum(wasm_f32x4_add(acc0, acc1));
    for (; k < c; k++) sq += (xr[k] - mean) * (xr[k] - mean);
    const float inv = 1.0f / __builtin_sqrtf(sq * invC + eps);
    if (stats) {
      stats[2 * r] = mean;
      stats[2 * r + 1] = inv;
    }
    const f4 inv4 = SPLAT(inv);
    for (k = 0; k < c4; k += 4) {
      f4 v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + k), m4), inv4);
      v = wasm_f32x4_add(wasm_f32x4_mul(v, wasm_v128_load(gamma + k)), wasm_v128_load(beta + k));
      if (act == ACT_GELU) v = gelu4(v);
      else if (act == ACT_SCALED_GELU) v = scaledGelu4(v);
      wasm_v128_store(yr + k, v);
    }
    for (; k < c; k++) {
      float v = (xr[k] - mean) * inv * gamma[k] + beta[k];
      if (act == ACT_GELU) v = gelu1(v);
      else if (act == ACT_SCALED_GELU) v = scaledGelu1(v);
      yr[k] = v;
    }
    if (yT) {
      if ((r & 3) == 3 && (rows & 3) == 0) {
        /* Four rows done: write them to yT as 4x4 blocks (vector stores along yT's rows). */
        const float* y0 = y + (long)(r - 3) * c;
        for (k = 0; k < c4; k += 4) {
          const f4 a = wasm_v128_load(y0 + k), b = wasm_v128_load(y0 + c + k);
          const f4 e = wasm_v128_load(y0 + 2 * c + k), f = wasm_v128_load(y0 + 3 * c + k);
          const f4 ab0 = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), ab1 = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
          const f4 ef0 = wasm_i32x4_shuffle(e, f, 0, 4, 1, 5), ef1 = wasm_i32x4_shuffle(e, f, 2, 6, 3, 7);
          float* t = yT + (long)k * rows + (r - 3);
          wasm_v128_store(t, wasm_i64x2_shuffle(ab0, ef0, 0, 2));
          wasm_v128_store(t + rows, wasm_i64x2_shuffle(ab0, ef0, 1, 3));
          wasm_v128_store(t + 2 * (long)rows, wasm_i64x2_shuffle(ab1, ef1, 0, 2));
          wasm_v128_store(t + 3 * (long)rows, wasm_i64x2_shuffle(ab1, ef1, 1, 3));
        }
        for (; k < c; k++) {
          for (int i = 0; i < 4; i++) yT[(long)k * rows + r - 3 + i] = y0[(long)i * c + k];
        }
      } else if ((rows & 3) != 0) {
        for (k = 0; k < c; k++) yT[(long)k * rows + r] = yr[k];
      }
    }
  }
}

/*
 * Softmax over each row of src [rows, kh * kw] into dst, after adding SAM's decomposed relative
 * positions: src[r, y * kw + x] + relH[r, y] + relW[r, x] (relH [rows, kh], relW [rows, kw]; both
 * null for a plain softmax). dst may equal src.
 */
static void softmax_rows(const float* src, float* dst, const float* relH, const float* relW, int rows, int kh, int kw, float* inv_sums);

__attribute__((export_name("rel_pos_softmax")))
void rel_pos_softmax(const float* src, float* dst, const float* relH, const float* relW, int rows, int kh, int kw) {
  softmax_rows(src, dst, relH, relW, rows, kh, kw, 0);
}

/* As rel_pos_softmax; with inv_sums, the rows are left unnormalised and 1/sum stored per row. */
static void softmax_rows(const float* src, float* dst, const float* relH, const float* relW, int rows, int kh, int kw, float* inv_sums) {
  const int n = kh * kw;
  for (int r = 0; r < rows; r++) {
    const float* s0 = src + (long)r * n;
    float* s = dst + (long)r * n;
    f4 mx4 = SPLAT(-3.4e38f);
    float mx = -3.4e38f;
    if (relH && relW) {
      const float* rh = relH + (long)r * kh;
      const float* rw = relW + (long)r * kw;
      const int kw4 = kw & ~3;
      for (int y = 0; y < kh; y++) {
        const float* sy0 = s0 + y * kw;
        float* sy = s + y * kw;
        const f4 h4 = SPLAT(rh[y]);
        int x = 0;
        for (; x < kw4; x += 4) {
          const f4 v = wasm_f32x4_add(wasm_v128_load(sy0 + x), wasm_f32x4_add(h4, wasm_v128_load(rw + x)));
          wasm_v128_store(sy + x, v);
          mx4 = wasm_f32x4_pmax(mx4, v);
        }
        for (; x < kw; x++) {
          const float v = sy0[x] + (rh[y] + rw[x]);
          sy[x] = v;
          mx = v > mx ? v : mx;
        }
      }
    } else {
      int k = 0;
      for (; k + 4 <= n; k += 4) {
        const f4 v = wasm_v128_load(s0 + k);
        wasm_v128_store(s + k, v);
        mx4 = wasm_f32x4_pmax(mx4, v);
      }
      for (; k < n; k++) {
        s[k] = s0[k];
        mx = s0[k] > mx ? s0[k] : mx;
      }
    }
    const float m = hmax(mx4) > mx ? hmax(mx4) : mx;
    const f4 m4 = SPLAT(m);
    f4 sum4 = SPLAT(0.0f);
    int k = 0;
    for (; k + 4 <= n; k += 4) {
      const f4 e = expNeg4(wasm_f32x4_sub(wasm_v128_load(s + k), m4));
      wasm_v128_store(s + k, e);
      sum4 = wasm_f32x4_add(sum4, e);
    }
    float sum = hsum(sum4);
    for (; k < n; k++) {
      const float e = wasm_f32x4_extract_lane(expNeg4(SPLAT(s[k] - m)), 0);
      s[k] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
    if (inv_sums) {
      inv_sums[r] = inv;
      continue;
    }
    const f4 inv4 = SPLAT(inv);
    for (k = 0; k + 4 <= n; k += 4) wasm_v128_store(s + k, wasm_f32x4_mul(wasm_v128_load(s + k), inv4));
    for (; k < n; k++) s[k] *= inv;
  }
}

/*
 * Softmax down the columns of src [rows, cols] into dst (the attention probabilities of a few
 * queries over many keys, kept keys-major so that the next product streams them).
 */
__attribute__((export_name("softmax_axis0")))
void softmax_axis0(const float* src, float* dst, int rows, int cols) {
  for (int j = 0; j < cols; j += 4) {
    const int lanes = cols - j < 4 ? cols - j : 4;
    if (lanes == 4) {
      f4 m4 = SPLAT(-3.4e38f);
      for (int r = 0; r < rows; r++) m4 = wasm_f32x4_pmax(m4, wasm_v128_load(src + (long)r * cols + j));
      f4 sum4 = SPLAT(0.0f);
      for (int r = 0; r < rows; r++) {
        const f4 e = expNeg4(wasm_f32x4_sub(wasm_v128_load(src + (long)r * cols + j), m4));
        wasm_v128_store(dst + (long)r * cols + j, e);
        sum4 = wasm_f32x4_add(sum4, e);
      }
      const f4 inv4 = wasm_f32x4_div(SPLAT(1.0f), sum4);
      for (int r = 0; r < rows; r++) {
        float* d = dst + (long)r * cols + j;
        wasm_v128_store(d, wasm_f32x4_mul(wasm_v128_load(d), inv4));
      }
    } else {
      for (int l = 0; l < lanes; l++) {
        const int col = j + l;
        float m = -3.4e38f;
        for (int r = 0; r < rows; r++) m = src[(long)r * cols + col] > m ? src[(long)r * cols + col] : m;
        float sum = 0.0f;
        for (int r = 0; r < rows; r++) {
          const float e = wasm_f32x4_extract_lane(expNeg4(SPLAT(src[(long)r * cols + col] - m)), 0);
          dst[(long)r * cols + col] = e;
          sum += e;
        }
        const float inv = 1.0f / sum;
        for (int r = 0; r < rows; r++) dst[(long)r * cols + col] *= inv;
      }
    }
  }
}

/*
 * One layer of a product pushed through a layer norm (see src/sam/upscale-low-rank.ts):
 * out[i, j] = r_i * (z[i, j] + g[i, j] + c[j] - mu_i * s[j]) + d[j], with (mu_i, r_i) = stats[i].
 */
__attribute__((export_name("norm_affine_step")))
void norm_affine_step(const float* z, const float* g, const float* stats, const float* c, const float* s, const float* d, float* out, int rows, int n) {
  const int n4 = n & ~3;
  for (int i = 0; i < rows; i++) {
    const float mu = stats[2 * i], r = stats[2 * i + 1];
    const f4 mu4 = SPLAT(mu), r4 = SPLAT(r);
    const float* zi = z + (long)i * n;
    const float* gi = g + (long)i * n;
    float* oi = out + (long)i * n;
    int j = 0;
    for (; j < n4; j += 4) {
      f4 v = wasm_f32x4_add(wasm_f32x4_add(wasm_v128_load(zi + j), wasm_v128_load(gi + j)), wasm_v128_load(c + j));
      v = wasm_f32x4_sub(v, wasm_f32x4_mul(mu4, wasm_v128_load(s + j)));
      wasm_v128_store(oi + j, wasm_f32x4_add(wasm_f32x4_mul(v, r4), wasm_v128_load(d + j)));
    }
    for (; j < n; j++) oi[j] = r * (zi[j] + gi[j] + c[j] - mu * s[j]) + d[j];
  }
}

/*
 * C = A @ B (+ bias) for row-major A [M, K], B [K, N], C [M, N], without packing either operand.
 * For the mask decoder's products whose inner or outer size is the few attention tokens
 * (K or N = heads * tokens, 40-170): XNNPACK runs those at 6-7 GMAC/s here and first repacks a
 * right operand it has not seen (each call's is new); this runs them at ~8-9. Register tile 4x8
 * (8 accumulators), each A value broadcast from memory; K in blocks of 256 so that the B rows a
 * tile walks stay in L1.
 */
static inline void tile4x8(const float* a, const float* b, float* c, int lda, int ldb, int ldc, int kc, const float* init) {
  f4 c00, c01, c10, c11, c20, c21, c30, c31;
  if (init) {
    c00 = wasm_v128_load(init); c01 = wasm_v128_load(init + 4);
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01;
  } else {
    c00 = wasm_v128_load(c); c01 = wasm_v128_load(c + 4);
    c10 = wasm_v128_load(c + ldc); c11 = wasm_v128_load(c + ldc + 4);
    c20 = wasm_v128_load(c + 2 * ldc); c21 = wasm_v128_load(c + 2 * ldc + 4);
    c30 = wasm_v128_load(c + 3 * ldc); c31 = wasm_v128_load(c + 3 * ldc + 4);
  }
  const float* a0 = a;
  const float* a1 = a + lda;
  const float* a2 = a + 2 * lda;
  const float* a3 = a + 3 * lda;
  for (int k = 0; k < kc; k++) {
    const f4 b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    b += ldb;
    f4 x = wasm_v128_load32_splat(a0 + k);
    c00 = MADD(c00, x, b0);
    c01 = MADD(c01, x, b1);
    x = wasm_v128_load32_splat(a1 + k);
    c10 = MADD(c10, x, b0);
    c11 = MADD(c11, x, b1);
    x = wasm_v128_load32_splat(a2 + k);
    c20 = MADD(c20, x, b0);
    c21 = MADD(c21, x, b1);
    x = wasm_v128_load32_splat(a3 + k);
    c30 = MADD(c30, x, b0);
    c31 = MADD(c31, x, b1);
  }
  wasm_v128_store(c, c00); wasm_v128_store(c + 4, c01);
  wasm_v128_store(c + ldc, c10); wasm_v128_store(c + ldc + 4, c11);
  wasm_v128_store(c + 2 * ldc, c20); wasm_v128_store(c + 2 * ldc + 4, c21);
  wasm_v128_store(c + 3 * ldc, c30); wasm_v128_store(c + 3 * ldc + 4, c31);
}

/* One row by 8 columns (the rows left over by the 4-row tiles). */
static inline void tile1x8(const float* a, const float* b, float* c, int ldb, int kc, const float* init) {
  f4 c0 = init ? wasm_v128_load(init) : wasm_v128_load(c);
  f4 c1 = init ? wasm_v128_load(init + 4) : wasm_v128_load(c + 4);
  for (int k = 0; k < kc; k++) {
    const f4 x = wasm_v128_load32_splat(a + k);
    c0 = MADD(c0, x, wasm_v128_load(b));
    c1 = MADD(c1, x, wasm_v128_load(b + 4));
    b += ldb;
  }
  wasm_v128_store(c, c0);
  wasm_v128_store(c + 4, c1);
}

__attribute__((export_name("gemm")))
void gemm(const float* A, const float* B, const float* bias, float* C, int M, int K, int N) {
  const int KC = 256, MC = 96;
  const int n8 = N & ~7;
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int kc = K - k0 < KC ? K - k0 : KC;
    const int first = k0 == 0;
    for (int m0 = 0; m0 < M; m0 += MC) {
      const int m1 = M - m0 < MC ? M : m0 + MC;
      for (int j = 0; j < n8; j += 8) {
        /* The first K block starts from the bias (or zeros), later ones from C. */
        const float* init = first ? (bias ? bias + j : 0) : 0;
        int i = m0;
        for (; i + 4 <= m1; i += 4) {
          float* c = C + (long)i * N + j;
          if (first && !bias) {
            for (int r = 0; r < 4; r++) { wasm_v128_store(c + (long)r * N, SPLAT(0.0f)); wasm_v128_store(c + (long)r * N + 4, SPLAT(0.0f)); }
          }
          tile4x8(A + (long)i * K + k0, B + (long)k0 * N + j, c, K, N, N, kc, init);
        }
        for (; i < m1; i++) {
          float* c = C + (long)i * N + j;
          if (first && !bias) { wasm_v128_store(c, SPLAT(0.0f)); wasm_v128_store(c + 4, SPLAT(0.0f)); }
          tile1x8(A + (long)i * K + k0, B + (long)k0 * N + j, c, N, kc, init);
        }
      }
      /* Columns left over by the 8-wide tiles. */
      for (int i = m0; i < m1; i++) {
        for (int j = n8; j < N; j++) {
          float acc = first ? (bias ? bias[j] : 0.0f) : C[(long)i * N + j];
          const float* a = A + (long)i * K + k0;
          const float* b = B + (long)k0 * N + j;
          for (int k = 0; k < kc; k++) acc += a[k] * b[(long)k * N];
          C[(long)i * N + j] = acc;
        }
      }
    }
  }
}

/*
 * Products with a packed right operand, for the encoder's large products (its weights, packed once
 * per weight tensor, and the global attention's keys and values, packed once per head).
 *
 * Bp holds B [K, N] as ceil(N/8) panels of [K][8] (columns past N zero): a tile then reads its 8
 * columns contiguously, one 32-byte row per k, instead of striding N floats. A is packed per call,
 * one [kc][4] panel per 4 rows (rows past M zero). Loops: K in blocks of kc (<= 320), rows in
 * blocks of MC; within a block each B panel (kc x 8, <= 10 KB) stays in L1 while every 4-row A
 * panel of the block (MC x kc, <= 160 KB, in L2) runs past it.
 */
#define PACK_MC 128
#define PACK_KC_MAX 320

/*
 * b_transposed = 0: B[k, n] at B[k * ldb + n]; 1: at B[n * ldb + k] (B given as its transpose).
 * Every value is multiplied by scale (1 for a plain copy).
 */
__attribute__((export_name("pack_b")))
void pack_b(const float* B, int K, int N, int ldb, int b_transposed, float scale, float* Bp) {
  const f4 s4 = SPLAT(scale);
  for (int j = 0; j < N; j += 8) {
    const int nr = N - j < 8 ? N - j : 8;
    float* dst = Bp + (long)j * K;
    for (int k = 0; k < K; k++, dst += 8) {
      if (!b_transposed && nr == 8) {
        wasm_v128_store(dst, wasm_f32x4_mul(wasm_v128_load(B + (long)k * ldb + j), s4));
        wasm_v128_store(dst + 4, wasm_f32x4_mul(wasm_v128_load(B + (long)k * ldb + j + 4), s4));
        continue;
      }
      for (int c = 0; c < 8; c++) {
        dst[c] = c < nr ? scale * (b_transposed ? B[(long)(j + c) * ldb + k] : B[(long)k * ldb + j + c]) : 0.0f;
      }
    }
  }
}

/* Rows [m0, m0 + mr4) x columns [k0, k0 + kc) of A as [mr4 / 4][kc][4]; rows past M are zero. */
static void pack_a(const float* A, int lda, int M, int m0, int mr4, int k0, int kc, float* Ap) {
  for (int p = 0; p < mr4; p += 4) {
    const float* r[4];
    for (int q = 0; q < 4; q++) r[q] = m0 + p + q < M ? A + (long)(m0 + p + q) * lda + k0 : 0;
    float* dst = Ap + (long)p * kc;
    if (r[3]) {
      int k = 0;
      for (; k + 4 <= kc; k += 4, dst += 16) {
        /* a 4x4 transpose: rows of A become the 4 lanes of each k */
        const f4 x0 = wasm_v128_load(r[0] + k), x1 = wasm_v128_load(r[1] + k);
        const f4 x2 = wasm_v128_load(r[2] + k), x3 = wasm_v128_load(r[3] + k);
        const f4 t0 = wasm_i32x4_shuffle(x0, x1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(x2, x3, 0, 4, 1, 5);
        const f4 t2 = wasm_i32x4_shuffle(x0, x1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(x2, x3, 2, 6, 3, 7);
        wasm_v128_store(dst, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
        wasm_v128_store(dst + 4, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
        wasm_v128_store(dst + 8, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
        wasm_v128_store(dst + 12, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
      }
      for (; k < kc; k++, dst += 4) for (int q = 0; q < 4; q++) dst[q] = r[q][k];
    } else {
      for (int k = 0; k < kc; k++, dst += 4) for (int q = 0; q < 4; q++) dst[q] = r[q] ? r[q][k] : 0.0f;
    }
  }
}

/*
 * One 4x8 tile over kc: acc = Ap panel @ Bp panel, then c = acc + (init ? init row : c), where a
 * full tile writes C in place and a partial one (rows >= M or columns >= N) goes through tmp.
 */
static inline void packed_tile(const float* ap, const float* bp, int kc, float* c, int ldc, int rows, int cols, const float* init, float* tmp) {
  f4 c00 = SPLAT(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int k = 0; k < kc; k++, ap += 4, bp += 8) {
    const f4 b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
    f4 x = wasm_v128_load32_splat(ap);
    c00 = MADD(c00, x, b0); c01 = MADD(c01, x, b1);
    x = wasm_v128_load32_splat(ap + 1);
    c10 = MADD(c10, x, b0); c11 = MADD(c11, x, b1);
    x = wasm_v128_load32_splat(ap + 2);
    c20 = MADD(c20, x, b0); c21 = MADD(c21, x, b1);
    x = wasm_v128_load32_splat(ap + 3);
    c30 = MADD(c30, x, b0); c31 = MADD(c31, x, b1);
  }
  const int full = rows == 4 && cols == 8;
  float* t = full ? c : tmp;
  const int ldt = full ? ldc : 8;
  if (!full) {
    for (int r = 0; r < 4; r++) for (int q = 0; q < 8; q++) tmp[r * 8 + q] = r < rows && q < cols && !init ? c[(long)r * ldc + q] : 0.0f;
  }
  const float* base = init ? init : t;
  const int ldi = init ? 0 : ldt; /* the init row serves all four rows */
  wasm_v128_store(t, wasm_f32x4_add(c00, wasm_v128_load(base)));
  wasm_v128_store(t + 4, wasm_f32x4_add(c01, wasm_v128_load(base + 4)));
  wasm_v128_store(t + ldt, wasm_f32x4_add(c10, wasm_v128_load(base + ldi)));
  wasm_v128_store(t + ldt + 4, wasm_f32x4_add(c11, wasm_v128_load(base + ldi + 4)));
  wasm_v128_store(t + 2 * ldt, wasm_f32x4_add(c20, wasm_v128_load(base + 2 * ldi)));
  wasm_v128_store(t + 2 * ldt + 4, wasm_f32x4_add(c21, wasm_v128_load(base + 2 * ldi + 4)));
  wasm_v128_store(t + 3 * ldt, wasm_f32x4_add(c30, wasm_v128_load(base + 3 * ldi)));
  wasm_v128_store(t + 3 * ldt + 4, wasm_f32x4_add(c31, wasm_v128_load(base + 3 * ldi + 4)));
  if (!full) {
    for (int r = 0; r < rows; r++) for (int q = 0; q < cols; q++) c[(long)r * ldc + q] = tmp[r * 8 + q];
  }
}

/*
 * C [M, N] (row stride ldc) = A [M, K] (row stride lda) @ B + bias, B packed by pack_b.
 * work: packed_gemm_work_floats() floats. zeros8 / bias8: 8 zero floats, and the bias padded to a
 * multiple of 8 (or 0 for none), so that the first K block can start every tile from a whole row.
 */
__attribute__((export_name("packed_gemm_work_floats")))
int packed_gemm_work_floats(void) { return PACK_MC * PACK_KC_MAX + 32 + 8; }

__attribute__((export_name("gemm_packed")))
void gemm_packed(const float* A, int lda, const float* Bp, const float* bias8, float* C, int ldc, int M, int K, int N, float* work) {
  float* tmp = work + PACK_MC * PACK_KC_MAX;
  float* zeros = tmp + 32;
  for (int q = 0; q < 8; q++) zeros[q] = 0.0f;
  const int nk = (K + PACK_KC_MAX - 1) / PACK_KC_MAX;
  const int kcStep = (K + nk - 1) / nk;
  for (int k0 = 0; k0 < K; k0 += kcStep) {
    const int kc = K - k0 < kcStep ? K - k0 : kcStep;
    const int first = k0 == 0;
    for (int m0 = 0; m0 < M; m0 += PACK_MC) {
      const int mb = M - m0 < PACK_MC ? M - m0 : PACK_MC;
      const int mb4 = (mb + 3) & ~3;
      pack_a(A, lda, M, m0, mb4, k0, kc, work);
      for (int j = 0; j < N; j += 8) {
        const int cols = N - j < 8 ? N - j : 8;
        const float* bp = Bp + (long)j * K + (long)k0 * 8;
        const float* init = first ? (bias8 ? bias8 + j : zeros) : 0;
        for (int p = 0; p < mb4; p += 4) {
          const int rows = mb - p < 4 ? mb - p : 4;
          packed_tile(work + (long)p * kc, bp, kc, C + (long)(m0 + p) * ldc + j, ldc, rows, cols, init, tmp);
        }
      }
    }
  }
}

/*
 * Multi-head attention with SAM's decomposed relative positions, before the output projection,
 * for `batches` windows (1 for global attention) of n tokens:
 *   out[b, t, h*dh:(h+1)*dh] = softmax(scale * q_bh k_bh^T + relH + relW) v_bh
 * q, k, v, out: [batches * n, ld] with head h in columns h*dh .. (h+1)*dh (the projections'
 * layout: no head transposes); the window is kh x kw tokens, row-major (n = kh * kw).
 * tableH [2 kh - 1, dh] and tableW [2 kw - 1, dh] are the block's rel_pos_h / rel_pos_w (or both
 * 0): relH[t, ky] = q_t . tableH[qy - ky + kh - 1] for the query t at (qy, qx), with unscaled q as
 * the reference, and relW likewise along x. The queries of one window row (or column) share
 * their table rows, so each row's (column's) terms are one small packed product with those rows
 * (taken in reverse order: a negative row stride), written into per-head buffers.
 * Per (window, head) k is packed (scaled) and v packed once; then for each block of ATT_ROWS
 * queries the scores, their softmax and the product with v run in a [ATT_ROWS, n] scratch that
 * stays in cache, instead of writing 64 MB of scores per head of a 64x64 global block to memory
 * and reading them back twice.
 * work: attention_work_floats(n, dh) floats.
 */
#define ATT_ROWS 32

__attribute__((export_name("attention_work_floats")))
int attention_work_floats(int n, int dh, int kh, int kw) {
  const int k8 = ((kh > kw ? kh : kw) + 7) & ~7;
  return ((n + 7) & ~7) * dh + ((dh + 7) & ~7) * n + ATT_ROWS * n + ATT_ROWS + n * (kh + kw) + k8 * dh + packed_gemm_work_floats();
}

/*
 * The relative-position terms of one (window, head): relH [n, kh] and relW [n, kw] as above. tp
 * holds one packed [dh, 64-or-fewer] table slice.
 */
static void rel_pos_terms(const float* q, int ld, const float* tableH, const float* tableW, int kh, int kw, int dh, float* relH, float* relW, float* tp, float* gw) {
  for (int qy = 0; qy < kh; qy++) {
    /* B[c, ky] = tableH[qy - ky + kh - 1, c]: the rows from qy + kh - 1 down to qy */
    pack_b(tableH + (long)(qy + kh - 1) * dh, dh, kh, -dh, 1, 1.0f, tp);
    gemm_packed(q + (long)qy * kw * ld, ld, tp, 0, relH + (long)qy * kw * kh, kh, kw, dh, kh, gw);
  }
  for (int qx = 0; qx < kw; qx++) {
    /* the queries of column qx are every kw-th token; so are their rows of relW */
    pack_b(tableW + (long)(qx + kw - 1) * dh, dh, kw, -dh, 1, 1.0f, tp);
    gemm_packed(q + (long)qx * ld, kw * ld, tp, 0, relW + (long)qx * kw, kw * kw, kh, dh, kw, gw);
  }
}

__attribute__((export_name("attention")))
void attention(const float* q, const float* k, const float* v, int ld, const float* tableH, const float* tableW, float* out,
               int batches, int heads, int n, int dh, int kh, int kw, float scale, float* work) {
  float* kp = work;
  float* vp = kp + ((n + 7) & ~7) * dh;
  float* scores = vp + ((dh + 7) & ~7) * n;
  float* inv = scores + ATT_ROWS * n;
  float* relH = inv + ATT_ROWS;
  float* relW = relH + n * kh;
  float* tp = relW + n * kw;
  float* gw = tp + (((kh > kw ? kh : kw) + 7) & ~7) * dh;
  for (int b = 0; b < batches; b++) {
    for (int h = 0; h < heads; h++) {
      const long base = (long)b * n * ld + (long)h * dh;
      if (tableH) rel_pos_terms(q + base, ld, tableH, tableW, kh, kw, dh, relH, relW, tp, gw);
      pack_b(k + base, dh, n, ld, 1, scale, kp);
      pack_b(v + base, n, dh, ld, 0, 1.0f, vp);
      for (int r0 = 0; r0 < n; r0 += ATT_ROWS) {
        const int rows = n - r0 < ATT_ROWS ? n - r0 : ATT_ROWS;
        gemm_packed(q + base + (long)r0 * ld, ld, kp, 0, scores, n, rows, dh, n, gw);
        /* The softmax's 1/sum is applied to the [rows, dh] result rather than the [rows, n] scores. */
        if (tableH) {
          softmax_rows(scores, scores, relH + (long)r0 * kh, relW + (long)r0 * kw, rows, kh, kw, inv);
        } else {
          softmax_rows(scores, scores, 0, 0, rows, n, 1, inv);
        }
        float* o = out + base + (long)r0 * ld;
        gemm_packed(scores, n, vp, 0, o, ld, rows, n, dh, gw);
        for (int r = 0; r < rows; r++, o += ld) {
          const f4 s4 = SPLAT(inv[r]);
          int j = 0;
          for (; j + 4 <= dh; j += 4) wasm_v128_store(o + j, wasm_f32x4_mul(wasm_v128_load(o + j), s4));
          for (; j < dh; j++) o[j] *= inv[r];
        }
      }
    }
  }
}

/*
 * A stride-1 convolution with TensorFlow's 'same' padding (the odd pixel of an even kernel at the
 * bottom/right) as packed products: x [H, W, C] (HWC), the filter packed by pack_b from its
 * [kh * kw * C, N] view (tf's [kh, kw, C, N] layout), out [H, W, N]. Each block of CONV_ROWS output
 * pixels gathers its kh x kw x C input patches into one [CONV_ROWS, kh * kw * C] block (zeros
 * outside the image) for gemm_packed; the whole patch matrix (38 MB for SAM's neck) never exists.
 * work: conv_work_floats(kh * kw * C) floats.
 */
#define CONV_ROWS PACK_MC

__attribute__((export_name("conv_work_floats")))
int conv_work_floats(int k) { return CONV_ROWS * k + packed_gemm_work_floats(); }

__attribute__((export_name("conv2d_same")))
void conv2d_same(const float* x, int H, int W, int C, int kh, int kw, const float* Wp, const float* bias8, float* out, int N, float* work) {
  const int K = kh * kw * C;
  const int top = (kh - 1) / 2, left = (kw - 1) / 2;
  float* cols = work;
  float* gw = work + CONV_ROWS * K;
  for (int p0 = 0; p0 < H * W; p0 += CONV_ROWS) {
    const int rows = H * W - p0 < CONV_ROWS ? H * W - p0 : CONV_ROWS;
    for (int r = 0; r < rows; r++) {
      const int y = (p0 + r) / W, xx = (p0 + r) % W;
      float* dst = cols + (long)r * K;
      for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++, dst += C) {
          const int sy = y + ky - top, sx = xx + kx - left;
          const int inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
          const float* src = x + ((long)sy * W + sx) * C;
          int c = 0;
          if (inside) {
            for (; c + 4 <= C; c += 4) wasm_v128_store(dst + c, wasm_v128_load(src + c));
            for (; c < C; c++) dst[c] = src[c];
          } else {
            for (; c + 4 <= C; c += 4) wasm_v128_store(dst + c, SPLAT(0.0f));
            for (; c < C; c++) dst[c] = 0.0f;
          }
        }
      }
    }
    gemm_packed(cols, K, Wp, bias8, out + (long)p0 * N, N, rows, K, N, gw);
  }
}

/*
 * The rate limit of the products in this build: `iterations` rounds of 12 independent
 * multiply-adds (MADD, the form the products use: fused in the relaxed build), no loads or stores.
 * 12 chains cover the FMA latency on the cores measured, so the loop runs at the CPU's multiply-add
 * throughput for 128-bit vectors. The benchmarks (scripts/perf/measure-kernels.ts) time it to say
 * what fraction of that peak each kernel reaches. Each chain converges (a = c + 0.5 a), so no
 * value goes denormal or infinite; the sum is returned so the work cannot be dropped.
 */
__attribute__((export_name("madd_peak_probe")))
float madd_peak_probe(int iterations, float c) {
  const f4 y = SPLAT(0.5f);
  const f4 k = SPLAT(c);
  /* different starts, so that the compiler cannot merge identical chains into one */
  f4 a0 = SPLAT(c * 1.0f), a1 = SPLAT(c * 2.0f), a2 = SPLAT(c * 3.0f), a3 = SPLAT(c * 4.0f);
  f4 a4 = SPLAT(c * 5.0f), a5 = SPLAT(c * 6.0f), a6 = SPLAT(c * 7.0f), a7 = SPLAT(c * 8.0f);
  f4 a8 = SPLAT(c * 9.0f), a9 = SPLAT(c * 10.0f), a10 = SPLAT(c * 11.0f), a11 = SPLAT(c * 12.0f);
  for (int i = 0; i < iterations; i++) {
    a0 = MADD(k, a0, y); a1 = MADD(k, a1, y); a2 = MADD(k, a2, y); a3 = MADD(k, a3, y);
    a4 = MADD(k, a4, y); a5 = MADD(k, a5, y); a6 = MADD(k, a6, y); a7 = MADD(k, a7, y);
    a8 = MADD(k, a8, y); a9 = MADD(k, a9, y); a10 = MADD(k, a10, y); a11 = MADD(k, a11, y);
  }
  const f4 s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)),
                              wasm_f32x4_add(wasm_f32x4_add(a4, a5), wasm_f32x4_add(a6, a7)));
  return wasm_f32x4_extract_lane(wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(a8, a9), wasm_f32x4_add(a10, a11))), 0);
}
