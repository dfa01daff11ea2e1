// Direct 3x3 convolution, stride 1, 'same' padding (1 on every side), no dilation, no bias,
// NHWC float32, WebAssembly SIMD128. Bit-identical to tfjs-backend-wasm's Conv2D (XNNPACK's
// f32 igemm) because each output is computed with the same float32 operations in the same order:
//   acc = +0; for tap = ky * 3 + kx (0..8): for k = 0..Cin-1: acc = acc + x[tap pixel][k] * w[ky][kx][k][c]
// with every product and sum rounded to float32 (SIMD128 has no fused multiply-add), and taps
// outside the image read from a buffer of zeros exactly as XNNPACK's indirection buffer does (so
// 0 * inf gives NaN there too, like the stock kernel).
//
// Built by scripts/build-conv3x3-wasm.sh into conv3x3-wasm-bytes.ts; run on the wasm backend's own
// heap by conv3x3-kernel.ts. The module imports its memory (env.memory) and must not own any of it:
// no libc, no data segments, no static variables and no arrays on the C stack (the build checks
// the module has neither a data section nor a global), so everything lives in wasm locals.
#include <wasm_simd128.h>

typedef v128_t V;
#define AI static inline __attribute__((always_inline))

// Where pixel (iy, ix) of the image at x starts, or `zero` outside the image (the 'same' padding).
AI const float *at(const float *x, const float *zero, int H, int W, int Cin, int iy, int ix) {
  return iy >= 0 && iy < H && ix >= 0 && ix < W ? x + (iy * W + ix) * Cin : zero;
}

// The input pointers of the mr pixels (oy, ox + r) for tap (ky, kx), set in the tap loops below.
#define TAP_POINTERS                                                                   \
  const int iy = oy + tap / 3 - 1, ix = ox + tap % 3 - 1;                              \
  const float *p0 = at(x, zero, H, W, Cin, iy, ix), *p1 = at(x, zero, H, W, Cin, iy, ix + 1); \
  const float *p2 = at(x, zero, H, W, Cin, iy, ix + 2), *p3 = at(x, zero, H, W, Cin, iy, ix + 3);

// mr (1..4) consecutive output pixels (oy, ox + r) of one image x [H][W][Cin] times 8 output
// channels: y[r][0..7]. w: the filter at the block's first channel, [3][3][Cin] rows of 8 floats,
// ws floats apart (8 packed, Cout in the filter itself).
AI void taps8(const int mr, const float *x, const float *zero, int H, int W, int oy, int ox, const float *w, int Cin, int Cout, int ws, float *y) {
  V a00 = wasm_f32x4_const_splat(0.f), a01 = a00, a10 = a00, a11 = a00;
  V a20 = a00, a21 = a00, a30 = a00, a31 = a00;
  for (int tap = 0; tap < 9; tap++) {
    TAP_POINTERS
    const float *wk = w + tap * Cin * ws;
    for (int k = 0; k < Cin; k++) {
      const V b0 = wasm_v128_load(wk), b1 = wasm_v128_load(wk + 4);
      wk += ws;
      V a = wasm_v128_load32_splat(p0 + k);
      a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(a, b0));
      a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(a, b1));
      if (mr > 1) {
        a = wasm_v128_load32_splat(p1 + k);
        a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(a, b0));
        a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(a, b1));
      }
      if (mr > 2) {
        a = wasm_v128_load32_splat(p2 + k);
        a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(a, b0));
        a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(a, b1));
      }
      if (mr > 3) {
        a = wasm_v128_load32_splat(p3 + k);
        a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(a, b0));
        a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(a, b1));
      }
    }
  }
  wasm_v128_store(y, a00);
  wasm_v128_store(y + 4, a01);
  if (mr > 1) { wasm_v128_store(y + Cout, a10); wasm_v128_store(y + Cout + 4, a11); }
  if (mr > 2) { wasm_v128_store(y + 2 * Cout, a20); wasm_v128_store(y + 2 * Cout + 4, a21); }
  if (mr > 3) { wasm_v128_store(y + 3 * Cout, a30); wasm_v128_store(y + 3 * Cout + 4, a31); }
}

// The same for 4 channels (a Cout % 8 tail of 4 or more).
AI void taps4(const int mr, const float *x, const float *zero, int H, int W, int oy, int ox, const float *w, int Cin, int Cout, float *y) {
  V a0 = wasm_f32x4_const_splat(0.f), a1 = a0, a2 = a0, a3 = a0;
  for (int tap = 0; tap < 9; tap++) {
    TAP_POINTERS
    const float *wk = w + tap * Cin * Cout;
    for (int k = 0; k < Cin; k++) {
      const V b = wasm_v128_load(wk);
      wk += Cout;
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load32_splat(p0 + k), b));
      if (mr > 1) a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load32_splat(p1 + k), b));
      if (mr > 2) a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load32_splat(p2 + k), b));
      if (mr > 3) a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load32_splat(p3 + k), b));
    }
  }
  wasm_v128_store(y, a0);
  if (mr > 1) wasm_v128_store(y + Cout, a1);
  if (mr > 2) wasm_v128_store(y + 2 * Cout, a2);
  if (mr > 3) wasm_v128_store(y + 3 * Cout, a3);
}

// One channel in scalar float32 (a Cout % 4 tail): the same operations, one lane.
AI void taps1(const int mr, const float *x, const float *zero, int H, int W, int oy, int ox, const float *w, int Cin, int Cout, float *y) {
  float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f;
  for (int tap = 0; tap < 9; tap++) {
    TAP_POINTERS
    const float *wk = w + tap * Cin * Cout;
    for (int k = 0; k < Cin; k++) {
      const float b = *wk;
      wk += Cout;
      a0 = a0 + p0[k] * b;
      if (mr > 1) a1 = a1 + p1[k] * b;
      if (mr > 2) a2 = a2 + p2[k] * b;
      if (mr > 3) a3 = a3 + p3[k] * b;
    }
  }
  y[0] = a0;
  if (mr > 1) y[Cout] = a1;
  if (mr > 2) y[2 * Cout] = a2;
  if (mr > 3) y[3 * Cout] = a3;
}

// One output row's pixels, 4 at a time (then 1 to 3), for one block of channels: `taps` is
// taps8, taps4 or taps1, `wb` its filter (packed or not), `yc` the row's output at the block.
#define ROW(taps, wb, yc, ...)                                                              \
  for (int ox = 0; ox < W; ox += 4) {                                                  \
    float *yo = (yc) + ox * Cout;                                                      \
    switch (W - ox) {                                                                  \
      case 1: taps(1, xn, zero, H, W, oy, ox, wb, Cin, Cout, ##__VA_ARGS__, yo); break;               \
      case 2: taps(2, xn, zero, H, W, oy, ox, wb, Cin, Cout, ##__VA_ARGS__, yo); break;               \
      case 3: taps(3, xn, zero, H, W, oy, ox, wb, Cin, Cout, ##__VA_ARGS__, yo); break;               \
      default: taps(4, xn, zero, H, W, oy, ox, wb, Cin, Cout, ##__VA_ARGS__, yo); break;              \
    }                                                                                  \
  }

// x [N][H][W][Cin], w [3][3][Cin][Cout], y [N][H][W][Cout], zero: Cin zeros, wp: scratch for the
// packed filter (9 * Cin * (Cout - Cout % 8) floats) or 0 to read the filter in place (small
// outputs, where packing costs more than it saves). Pointers are byte addresses in the imported
// memory; float32 data 4-byte aligned (SIMD loads need no more).
__attribute__((export_name("conv3x3")))
void conv3x3(const float *x, const float *w, float *y, const float *zero, float *wp, int N, int H, int W, int Cin, int Cout) {
  // The filter's blocks of 8 output channels, each [3][3][Cin][8] contiguous (one 32-byte row per
  // input channel instead of rows Cout floats apart).
  if (wp)
    for (int c = 0; c + 8 <= Cout; c += 8)
      for (int t = 0; t < 9 * Cin; t++) {
        wasm_v128_store(wp + 9 * Cin * c + t * 8, wasm_v128_load(w + t * Cout + c));
        wasm_v128_store(wp + 9 * Cin * c + t * 8 + 4, wasm_v128_load(w + t * Cout + c + 4));
      }
  // Row by row; within a row, one block of output channels at a time over all its pixels, so
  // the block's filter (9 x Cin x 8 floats) stays in cache across the row.
  for (int n = 0; n < N; n++) {
    const float *xn = x + n * H * W * Cin;
    for (int oy = 0; oy < H; oy++) {
      float *yr = y + (n * H + oy) * W * Cout;
      int c = 0;
      for (; c + 8 <= Cout; c += 8) ROW(taps8, wp ? wp + 9 * Cin * c : w + c, yr + c, wp ? 8 : Cout)
      if (c + 4 <= Cout) {
        ROW(taps4, w + c, yr + c)
        c += 4;
      }
      for (; c < Cout; c++) ROW(taps1, w + c, yr + c)
    }
  }
}
