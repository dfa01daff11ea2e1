/**
 * The few Web-platform globals the core uses that Node, Deno, workerd and browsers all provide,
 * declared for `tsc -p src/core` only (that check sees neither Node's types nor the DOM's, so a
 * runtime-specific API fails it). The root tsconfig excludes this file: there DOM and @types/node
 * declare the same globals in full. Add a global here only if all four runtimes have it.
 */
declare function btoa(data: string): string;

interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}
interface TextDecoder {
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare var TextDecoder: { new (label?: string, options?: TextDecoderOptions): TextDecoder };

/** WebAssembly's JS API (all four runtimes run wasm; the wasm backend needs it anyway). */
declare namespace WebAssembly {
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  function validate(bytes: ArrayBufferView | ArrayBuffer): boolean;
}
