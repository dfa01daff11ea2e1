/**
 * The fused synthesis epilogue's two loops as a WebAssembly module (synthesis-epilogue.ts runs
 * them on the tfjs wasm backend's heap), written by a minimal encoder: no assembler ships with the
 * project. No tfjs and no runtime API here, so build scripts can import it too: the edge bundle
 * ships these bytes precompiled (`synthesis-epilogue.wasm`, scripts/edge/wasm-plugin.ts), because
 * workerd refuses to compile wasm at run time.
 */

/** The leaky ReLU's slope (layers.ts `lreluFused`, tfjs's LeakyRelu and Step). */
export const ALPHA = 0.2;
/** The activation gain (layers.ts `SQRT2`; repeated here so this file imports nothing). */
const SQRT2 = Math.SQRT2;

// A minimal WebAssembly encoder for the two loops below (no assembler ships with the project).
/** n as unsigned LEB128, WebAssembly's integer encoding (also used by bench/sweep-profile.ts). */
export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const str = (t: string): number[] => vec([...t].map((ch) => [ch.charCodeAt(0)]));
const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32 = (v: number) => [0x41, ...uleb(v)]; // only small non-negative constants (< 64) are used
const f32 = (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];
const simd = (op: number) => [0xfd, ...uleb(op)];
const load = [...simd(0x00), 4, 0]; // v128.load align=16 offset=0
const store = [...simd(0x0b), 4, 0];
const f32load = [0x2a, 2, 0];
const [ADD, MUL, SPLAT, EQ, LT, GT, BITSELECT] = [0xe4, 0xe6, 0x13, 0x41, 0x43, 0x44, 0x52].map(simd);
const i32add = [0x6a];
const i32ltu = [0x49];
/** do { body; i += step } while (i < end): every trip count here is at least 1. */
const loop = (i: number, step: number[], end: number[], body: number[]): number[] => [
  0x03,
  0x40,
  ...body,
  ...get(i),
  ...step,
  ...i32add,
  0x22,
  ...uleb(i), // local.tee
  ...end,
  ...i32ltu,
  0x0d,
  0, // br_if to the loop's start
  0x0b,
];

/**
 * The module: forward(y, d, noise, bias, out, n, hw4, c4, noiseStride4) and backward(dy, out, y, d,
 * gd, gy, n, hw4, c4), pointers and sizes in bytes, channels 4 at a time (f32x4). Each f32x4 op
 * rounds to float32 like the stock kernels' scalar ops.
 */
export function synthesisEpilogueWasm(): Uint8Array<ArrayBuffer> {
  const alpha = f32(ALPHA);
  const sqrt2 = f32(SQRT2);
  // forward: params 0..8; locals 9 s, 10 p, 11 k, 12 yp, 13 op, 14 dRow, 15 nRow (i32); 16 nz, 17 v (v128)
  const [y, d, noise, bias, out, n, hw4, c4, nStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [s, p, k, yp, op, dRow, nRow, nz, v] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const at = (base: number, off: number) => [...get(base), ...get(off), ...i32add];
  const forward = [
    ...vec([
      [...uleb(7), I32],
      [...uleb(2), V128],
    ]),
    ...get(y),
    ...set(yp),
    ...get(out),
    ...set(op),
    ...get(d),
    ...set(dRow),
    ...get(noise),
    ...set(nRow),
    ...i32(0),
    ...set(s),
    ...loop(s, i32(1), get(n), [
      ...i32(0),
      ...set(p),
      ...loop(p, i32(4), get(hw4), [
        ...at(nRow, p),
        ...f32load,
        ...SPLAT,
        ...set(nz),
        ...i32(0),
        ...set(k),
        ...loop(k, i32(16), get(c4), [
          ...at(yp, k),
          ...load,
          ...at(dRow, k),
          ...load,
          ...MUL,
          ...get(nz),
          ...ADD,
          ...at(bias, k),
          ...load,
          ...ADD,
          ...set(v),
          ...at(op, k),
          ...get(v),
          ...alpha,
          ...SPLAT,
          ...MUL,
          ...get(v),
          ...get(v),
          ...f32(0),
          ...SPLAT,
          ...LT,
          ...BITSELECT,
          ...sqrt2,
          ...SPLAT,
          ...MUL,
          ...store,
        ]),
        ...get(yp),
        ...get(c4),
        ...i32add,
        ...set(yp),
        ...get(op),
        ...get(c4),
        ...i32add,
        ...set(op),
      ]),
      ...get(dRow),
      ...get(c4),
      ...i32add,
      ...set(dRow),
      ...get(nRow),
      ...get(nStride),
      ...i32add,
      ...set(nRow),
    ]),
    0x0b,
  ];
  // backward: params 0..8 (dy, out, y, d, gd, gy, n, hw4, c4); locals 9 s, 10 p, 11 k, 12 off, 13 dRow,
  // 14 a (i32); 15 o, 16 g (v128)
  const [bdy, bout, by, bd, bgd, bgy, bn, bhw4, bc4] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [bs, bp, bk, off, bdRow, a, o, g] = [9, 10, 11, 12, 13, 14, 15, 16];
  const backward = [
    ...vec([
      [...uleb(6), I32],
      [...uleb(2), V128],
    ]),
    ...get(bd),
    ...set(bdRow),
    ...i32(0),
    ...set(off),
    ...i32(0),
    ...set(bs),
    ...loop(bs, i32(1), get(bn), [
      ...i32(0),
      ...set(bp),
      ...loop(bp, i32(4), get(bhw4), [
        ...i32(0),
        ...set(bk),
        ...loop(bk, i32(16), get(bc4), [
          ...get(off),
          ...get(bk),
          ...i32add,
          ...set(a),
          ...at(bout, a),
          ...load,
          ...set(o),
          // step(out, alpha): 1 above zero, NaN for NaN, else alpha (tfjs's Step).
          ...at(bdy, a),
          ...load,
          ...sqrt2,
          ...SPLAT,
          ...MUL,
          ...f32(1),
          ...SPLAT,
          ...alpha,
          ...SPLAT,
          ...get(o),
          ...get(o),
          ...get(o),
          ...EQ,
          ...BITSELECT,
          ...get(o),
          ...f32(0),
          ...SPLAT,
          ...GT,
          ...BITSELECT,
          ...MUL,
          ...set(g),
          ...at(bgd, a),
          ...get(g),
          ...at(bdRow, bk),
          ...load,
          ...MUL,
          ...store,
          ...at(bgy, a),
          ...get(g),
          ...at(by, a),
          ...load,
          ...MUL,
          ...store,
        ]),
        ...get(off),
        ...get(bc4),
        ...i32add,
        ...set(off),
      ]),
      ...get(bdRow),
      ...get(bc4),
      ...i32add,
      ...set(bdRow),
    ]),
    0x0b,
  ];
  const params9 = [0x60, ...vec(Array.from({ length: 9 }, () => [I32])), 0];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([params9])),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 1]])),
    ...section(3, vec([[0], [0]])),
    ...section(
      7,
      vec([
        [...str('forward'), 0x00, 0],
        [...str('backward'), 0x00, 1],
      ]),
    ),
    ...section(
      10,
      vec([
        [...uleb(forward.length), ...forward],
        [...uleb(backward.length), ...backward],
      ]),
    ),
  ]);
}
