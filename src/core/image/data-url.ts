/** Bytes as base64 and a PNG's bytes as a `data:` URL (no PNG encoder needed: see png.ts). */

/** Standard base64 (with padding) of bytes; btoa exists in Node, Deno, workerd and browsers alike. */
export function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** A PNG as a `data:` URL (what the API's JSON carries for images). */
export const pngDataUrl = (bytes: Uint8Array) => `data:image/png;base64,${base64(bytes)}`;
