// Direct 3x3 convolution, stride 1, 'same' padding (1 on every side), no dilation, no bias,
// NHWC float32, WebAssembly SIMD128. Bit-identical to tfjs-backend-wasm's Conv2D (XNNPACK's
// f32 igemm) because each output is computed with the same float32 operations in the same order:
//   acc = +0; for tap = ky * 3 + kx (0..8): for k = 0..Cin-1: acc = acc + x[tap pixel][k] * w[ky][kx][k][c]
// with every product and sum rounded to float32 (SIMD128 has no fused multiply-add), and taps
// outside the image read from a buffer of zeros exactly as XNNPACK's indirection buffer does (so
// 0 * inf gives NaN there too, like the stock kernel).
//
// The module also holds Winograd F(2x2,3x3) (opt-in) and a 2x2 mean pooling (`mean2x2`), below.
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

// ---------------------------------------------------------------------------------------------
// Winograd F(2x2,3x3), opt-in (conv3x3-kernel.ts `setConv3x3Algorithm('winograd')`). Same conv
// (3x3, stride 1, 'same', NHWC float32) with 16 multiplies per 2x2 output tile and input channel
// instead of 36, so NOT XNNPACK's bits: its error against the exact conv is about half XNNPACK's on
// the models' shapes (test/conv3x3-winograd.test.ts), but the last bits differ.
//   y tile = A^T [ (G g G^T) . (B^T d B) ] A, summed over input channels by 16 GEMMs.
// Takes Cin and Cout multiples of 4 (the kernel falls back to the direct loop otherwise) and any H, W
// (a last tile row/column half outside the image reads zeros and writes only its pixels inside).

typedef float F4 __attribute__((vector_size(16), aligned(4)));

// Tiles per block: the block's transformed inputs (16 x TB x Cin) and GEMM outputs (16 x TB x
// Cout8) stay in cache between the three phases. 4 (one GEMM row tile) measured fastest at batch 1,
// 16 and 64 (bench/conv3x3-ab.ts CONV_AB=winograd, sum over the sweep's shapes at 64: TB 4 40.7-41.2
// ms, 8 41.3-42.1, 16 45.3-45.7, 32 51, 64 56-59; a 6-row GEMM tile spilled registers: 61 ms).
#define TB 4

// B^T d (d: 4 values along one axis) and A^T m (4 -> 2), the F(2,3) transforms.
#define BT4(d0, d1, d2, d3, o0, o1, o2, o3) \
  o0 = (d0) - (d2);                         \
  o1 = (d1) + (d2);                         \
  o2 = (d2) - (d1);                         \
  o3 = (d1) - (d3);
#define AT4(m0, m1, m2, m3, o0, o1) \
  o0 = (m0) + (m1) + (m2);          \
  o1 = (m1) - (m2) - (m3);
// G g for 3 values along one axis (4 out), in float64.
#define G3(g0, g1, g2, o0, o1, o2, o3) \
  o0 = (g0);                           \
  o1 = 0.5 * ((g0) + (g1) + (g2));     \
  o2 = 0.5 * ((g0) - (g1) + (g2));     \
  o3 = (g2);

// The filter transform U = G g G^T, computed in float64 and rounded to float32 once, packed for the
// GEMMs: U [16][Cout8 / 8][Cin][8] (Cout8: Cout rounded up to 8, the extra columns zero).
// w [3][3][Cin][Cout] (HWIO).
__attribute__((export_name("wino2_filter")))
void wino2_filter(const float *w, float *U, int Cin, int Cout) {
  const int Cout8 = (Cout + 7) & ~7, ks = Cin * Cout8;
  for (int ci = 0; ci < Cin; ci++)
    for (int co = 0; co < Cout8; co++) {
      float *u = U + ((co >> 3) * Cin + ci) * 8 + (co & 7);
      if (co >= Cout) {
        for (int k = 0; k < 16; k++) u[k * ks] = 0.f;
        continue;
      }
#define Wg(ky, kx) ((double)w[((ky) * 3 + (kx)) * Cin * Cout + ci * Cout + co])
      double r00, r01, r02, r03, r10, r11, r12, r13, r20, r21, r22, r23;
      // G along ky, for each kx: r<kx><i>.
      G3(Wg(0, 0), Wg(1, 0), Wg(2, 0), r00, r01, r02, r03)
      G3(Wg(0, 1), Wg(1, 1), Wg(2, 1), r10, r11, r12, r13)
      G3(Wg(0, 2), Wg(1, 2), Wg(2, 2), r20, r21, r22, r23)
#undef Wg
      double o0, o1, o2, o3;
      // Then along kx for each row i: U[i * 4 + j].
#define ROWI(i, a0, a1, a2)                  \
  G3(a0, a1, a2, o0, o1, o2, o3)             \
  u[((i) * 4 + 0) * ks] = (float)o0;         \
  u[((i) * 4 + 1) * ks] = (float)o1;         \
  u[((i) * 4 + 2) * ks] = (float)o2;         \
  u[((i) * 4 + 3) * ks] = (float)o3;
      ROWI(0, r00, r10, r20)
      ROWI(1, r01, r11, r21)
      ROWI(2, r02, r12, r22)
      ROWI(3, r03, r13, r23)
#undef ROWI
    }
}

// C[mr x 8] = A[mr x K] (rows lda apart) times B[K x 8] (contiguous), from +0 (mul then add; no FMA).
AI void wgemm_tile(const int mr, int K, const float *a, int lda, const float *b, float *c, int ldc) {
  V a00 = wasm_f32x4_const_splat(0.f), a01 = a00, a10 = a00, a11 = a00;
  V a20 = a00, a21 = a00, a30 = a00, a31 = a00;
  for (int k = 0; k < K; k++) {
    const V b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    b += 8;
    V v = wasm_v128_load32_splat(a + k);
    a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(v, b0));
    a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(v, b1));
    if (mr > 1) {
      v = wasm_v128_load32_splat(a + lda + k);
      a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(v, b0));
      a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(v, b1));
    }
    if (mr > 2) {
      v = wasm_v128_load32_splat(a + 2 * lda + k);
      a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(v, b0));
      a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(v, b1));
    }
    if (mr > 3) {
      v = wasm_v128_load32_splat(a + 3 * lda + k);
      a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(v, b0));
      a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(v, b1));
    }
  }
  wasm_v128_store(c, a00);
  wasm_v128_store(c + 4, a01);
  if (mr > 1) { wasm_v128_store(c + ldc, a10); wasm_v128_store(c + ldc + 4, a11); }
  if (mr > 2) { wasm_v128_store(c + 2 * ldc, a20); wasm_v128_store(c + 2 * ldc + 4, a21); }
  if (mr > 3) { wasm_v128_store(c + 3 * ldc, a30); wasm_v128_store(c + 3 * ldc + 4, a31); }
}

// C [M][N8] = A [M][K] times B packed [N8 / 8][K][8]; 4 rows x 8 columns at a time.
static void wgemm(int M, int K, int N8, const float *a, const float *b, float *c) {
  for (int j = 0; j < N8; j += 8) {
    const float *bj = b + j * K;
    int r = 0;
    for (; r + 4 <= M; r += 4) wgemm_tile(4, K, a + r * K, K, bj, c + r * N8 + j, N8);
    switch (M - r) {
      case 3: wgemm_tile(3, K, a + r * K, K, bj, c + r * N8 + j, N8); break;
      case 2: wgemm_tile(2, K, a + r * K, K, bj, c + r * N8 + j, N8); break;
      case 1: wgemm_tile(1, K, a + r * K, K, bj, c + r * N8 + j, N8); break;
    }
  }
}

// x [N][H][W][Cin], U from wino2_filter, y [N][H][W][Cout], scratch: 16 * TB * (Cin + Cout8)
// floats. Cin and Cout multiples of 4.
__attribute__((export_name("wino2")))
void wino2(const float *x, const float *U, float *y, float *scratch, int N, int H, int W, int Cin, int Cout) {
  const int Cout8 = (Cout + 7) & ~7;
  const int th = (H + 1) >> 1, tw = (W + 1) >> 1, T = N * th * tw;
  float *vb = scratch, *mb = scratch + 16 * TB * Cin;
  const int vks = TB * Cin, mks = TB * Cout8;
  const F4 z = {0.f, 0.f, 0.f, 0.f};
  for (int t0 = 0; t0 < T; t0 += TB) {
    const int tb = T - t0 < TB ? T - t0 : TB;
    // Input transform: V[k][tile][c] = (B^T d B)[k] for the tile's 4x4 input patch d.
    for (int tl = 0; tl < tb; tl++) {
      const int t = t0 + tl, n = t / (th * tw), rem = t % (th * tw);
      const int y0 = (rem / tw) * 2 - 1, x0 = (rem % tw) * 2 - 1;
      const float *xb = x + ((n * H + y0) * W + x0) * Cin;
      const int interior = y0 >= 0 && x0 >= 0 && y0 + 4 <= H && x0 + 4 <= W;
      float *vt = vb + tl * Cin;
      for (int c = 0; c < Cin; c += 4) {
        F4 d00, d01, d02, d03, d10, d11, d12, d13, d20, d21, d22, d23, d30, d31, d32, d33;
#define LD4(i, j) (interior || (y0 + (i) >= 0 && y0 + (i) < H && x0 + (j) >= 0 && x0 + (j) < W) \
                       ? *(const F4 *)(xb + ((i) * W + (j)) * Cin + c)                           \
                       : z)
#define LDROW(i) d##i##0 = LD4(i, 0); d##i##1 = LD4(i, 1); d##i##2 = LD4(i, 2); d##i##3 = LD4(i, 3);
        LDROW(0) LDROW(1) LDROW(2) LDROW(3)
#undef LDROW
#undef LD4
        F4 e00, e01, e02, e03, e10, e11, e12, e13, e20, e21, e22, e23, e30, e31, e32, e33;
        // Along y (rows i) for each column j, then along x.
        BT4(d00, d10, d20, d30, e00, e10, e20, e30)
        BT4(d01, d11, d21, d31, e01, e11, e21, e31)
        BT4(d02, d12, d22, d32, e02, e12, e22, e32)
        BT4(d03, d13, d23, d33, e03, e13, e23, e33)
#define STROW(i)                                                                  \
  BT4(e##i##0, e##i##1, e##i##2, e##i##3, d##i##0, d##i##1, d##i##2, d##i##3)     \
  *(F4 *)(vt + ((i) * 4 + 0) * vks + c) = d##i##0;                                \
  *(F4 *)(vt + ((i) * 4 + 1) * vks + c) = d##i##1;                                \
  *(F4 *)(vt + ((i) * 4 + 2) * vks + c) = d##i##2;                                \
  *(F4 *)(vt + ((i) * 4 + 3) * vks + c) = d##i##3;
        STROW(0) STROW(1) STROW(2) STROW(3)
#undef STROW
      }
    }
    // The 16 GEMMs: M[k][tile][o] = sum over c of V[k][tile][c] U[k][c][o].
    for (int k = 0; k < 16; k++) wgemm(tb, Cin, Cout8, vb + k * vks, U + k * Cin * Cout8, mb + k * mks);
    // Output transform: the tile's 2x2 outputs A^T M A, those inside the image.
    for (int tl = 0; tl < tb; tl++) {
      const int t = t0 + tl, n = t / (th * tw), rem = t % (th * tw);
      const int oy = (rem / tw) * 2, ox = (rem % tw) * 2;
      const int full = oy + 2 <= H && ox + 2 <= W;
      float *yb = y + ((n * H + oy) * W + ox) * Cout;
      const float *mt = mb + tl * Cout8;
      for (int o = 0; o < Cout; o += 4) {
#define M4(k) (*(const F4 *)(mt + (k) * mks + o))
        F4 s00, s01, s02, s03, s10, s11, s12, s13;
        AT4(M4(0), M4(4), M4(8), M4(12), s00, s10)
        AT4(M4(1), M4(5), M4(9), M4(13), s01, s11)
        AT4(M4(2), M4(6), M4(10), M4(14), s02, s12)
        AT4(M4(3), M4(7), M4(11), M4(15), s03, s13)
#undef M4
        F4 y00, y01, y10, y11;
        AT4(s00, s01, s02, s03, y00, y01)
        AT4(s10, s11, s12, s13, y10, y11)
        *(F4 *)(yb + o) = y00;
        if (full || ox + 1 < W) *(F4 *)(yb + Cout + o) = y01;
        if (full || oy + 1 < H) {
          *(F4 *)(yb + W * Cout + o) = y10;
          if (full || ox + 1 < W) *(F4 *)(yb + (W + 1) * Cout + o) = y11;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 2x2 average pooling (the classifiers' and the discriminator's `avgPool2`: tf.mean of x reshaped
// [N, H/2, 2, W/2, 2, C] over axes 2 and 4). tfjs-backend-wasm runs that Mean as a 6-D transpose
// (the window last) then a sum from +0 in window order and a division by 4; this does the same
// float32 operations in the same order (sum = 0; sum += x[2i][2j]; += x[2i][2j+1]; += x[2i+1][2j];
// += x[2i+1][2j+1]; sum / 4) without the transpose, so the results are its bits.
// x [N][H][W][C] (H, W even), y [N][H/2][W/2][C].
__attribute__((export_name("mean2x2")))
void mean2x2(const float *x, float *y, int N, int H, int W, int C) {
  const int Ho = H >> 1, Wo = W >> 1;
  const V four = wasm_f32x4_const_splat(4.f);
  for (int n = 0; n < N; n++)
    for (int oy = 0; oy < Ho; oy++)
      for (int ox = 0; ox < Wo; ox++) {
        const float *a = x + ((n * H + 2 * oy) * W + 2 * ox) * C, *b = a + C, *c = a + W * C, *d = c + C;
        float *o = y + ((n * Ho + oy) * Wo + ox) * C;
        int k = 0;
        for (; k + 4 <= C; k += 4) {
          V s = wasm_f32x4_const_splat(0.f);
          s = wasm_f32x4_add(s, wasm_v128_load(a + k));
          s = wasm_f32x4_add(s, wasm_v128_load(b + k));
          s = wasm_f32x4_add(s, wasm_v128_load(c + k));
          s = wasm_f32x4_add(s, wasm_v128_load(d + k));
          wasm_v128_store(o + k, wasm_f32x4_div(s, four));
        }
        for (; k < C; k++) {
          float s = 0.f;
          s += a[k];
          s += b[k];
          s += c[k];
          s += d[k];
          o[k] = s / 4.f;
        }
      }
}
