// Hosts the Worker exactly as users deploy it (worker-build's index.js and
// index_bg.wasm, copied next to this file by scripts/bench_wasm.py) and calls
// its fetch handler the way workerd does, with an in-memory R2 bucket. The
// driver (driver.js) reaches it through a service binding, so each request
// body crosses an isolate boundary as a stream, as a body from the network does.
import Worker from "./index.js";

// workers-rs accepts a binding as an R2 bucket by its constructor's name.
export class R2Bucket {
  constructor() {
    this.puts = 0;
    this.bytes = 0;
  }
  // Takes the bytes as R2 would (they are read, then dropped: a long bench
  // must not grow the host's memory) and answers with the object's metadata.
  async put(key, value) {
    const size = value instanceof Uint8Array || value instanceof ArrayBuffer
      ? value.byteLength
      : (await new Response(value).arrayBuffer()).byteLength;
    this.puts += 1;
    this.bytes += size;
    return { key, size, etag: `e${this.puts}`, version: String(this.puts), uploaded: new Date() };
  }
  async head() { return null; }
  async get() { return null; }
  async delete() {}
  async list() { return { objects: [], truncated: false, delimitedPrefixes: [] }; }
}

const BUCKET = new R2Bucket();
let lastLine = null;
// The Worker prints one JSON log line per request; keep the last one (its
// memory_bytes is the wasm linear memory after the request) instead of
// printing thousands of them.
console.log = (line) => { lastLine = line; };

export default {
  async fetch(request, env, ctx) {
    if (request.headers.has("x-bench-js-read")) {
      // The floor for reading a body: JavaScript alone, no Worker.
      const read = await request.arrayBuffer();
      return new Response(String(read.byteLength), { status: 400 });
    }
    const worker = new Worker(ctx, { OTLP_BUCKET: BUCKET });
    const response = await worker.fetch(request);
    const out = new Response(response.body, response);
    if (lastLine) out.headers.set("x-log-line", String(lastLine));
    out.headers.set("x-puts", String(BUCKET.puts));
    return out;
  },
};
