/**
 * The direct 3x3 conv kernel's WebAssembly module (conv3x3.c; conv3x3-kernel.ts runs it on the wasm
 * backend's heap). No tfjs and no runtime API here, so build scripts can import it too: the edge
 * build writes these bytes to `conv3x3.wasm` (scripts/edge/wasm-plugin.ts), which workerd compiles
 * when it loads the worker (it refuses to compile wasm at run time).
 */
import { CONV3X3_WASM_BASE64 } from './conv3x3-wasm-bytes.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes base64 (no `atob`: the core uses only globals every runtime has). */
function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of s) {
    const v = B64.indexOf(ch);
    if (v < 0) throw new Error(`conv3x3: bad base64 character ${JSON.stringify(ch)}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

let bytes: Uint8Array<ArrayBuffer> | null = null;

/** The module's bytes (a fresh copy each call). */
export function conv3x3Wasm(): Uint8Array<ArrayBuffer> {
  bytes ??= fromBase64(CONV3X3_WASM_BASE64);
  return bytes.slice();
}
