/** The one runtime module the worker imports (provided by workerd; kept external by esbuild). */
declare module 'cloudflare:workers' {
  export abstract class DurableObject<Env = unknown> {
    protected ctx: import('./env.js').DurableObjectState;
    protected env: Env;
    constructor(ctx: import('./env.js').DurableObjectState, env: Env);
  }
}

/** A `.wasm` file imported by the worker: compiled by workerd at load (wrangler's CompiledWasm rule). */
declare module '*.wasm' {
  const compiled: WebAssembly.Module;
  export default compiled;
}
