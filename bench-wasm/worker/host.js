// Hosts the Worker exactly as users deploy it (worker-build's index.js and
// index_bg.wasm, copied next to this file by scripts/bench_wasm.py) and calls
// its fetch handler the way workerd does, with an in-memory R2 bucket. The
// driver (driver.js) reaches it through a service binding, so each request
// body crosses an isolate boundary as a stream, as a body from the network does.
import Worker from "./index.js";

// workers-rs accepts a binding as an R2 bucket by its constructor's name.
// Ingest benches only count the puts (the bytes are read, then dropped: a long
// bench must not grow the host's memory). With `keep` set (the compaction
// bench) it is a whole bucket in JavaScript memory, outside the Worker's wasm
// memory: list, ranged get, head, conditional put, multipart, delete.
export class R2Bucket {
  constructor() {
    this.puts = 0;
    this.bytes = 0;
    this.keep = false;
    this.objects = new Map(); // key -> { data, etag }
    this.uploads = new Map(); // upload id -> { key, parts: Map(number -> data) }
    this.ops = {};
    this.latency = 0; // ms each call of the compaction bench waits, as a call to R2 would
    this.inFlight = 0;
  }
  count(op) { this.ops[op] = (this.ops[op] || 0) + 1; }
  // With a latency set: waits it, and counts the calls under way at once
  // (ops.most_at_once).
  async wait() {
    if (!this.latency) return;
    this.inFlight += 1;
    this.ops.most_at_once = Math.max(this.ops.most_at_once || 0, this.inFlight);
    await new Promise((r) => setTimeout(r, this.latency));
    this.inFlight -= 1;
  }
  meta(key, o) {
    return {
      key, size: o.data.byteLength, etag: o.etag, httpEtag: `"${o.etag}"`, version: o.etag,
      uploaded: new Date(0), httpMetadata: {}, customMetadata: {}, checksums: {},
    };
  }
  store(key, data) {
    this.puts += 1;
    this.bytes += data.byteLength;
    const o = { data, etag: `e${this.puts}` };
    if (this.keep) this.objects.set(key, o);
    return this.meta(key, o);
  }
  // Copies: a Uint8Array from the Worker may be a view of its wasm memory.
  async bytesOf(value) {
    if (value instanceof Uint8Array) return value.slice();
    if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
    return new Uint8Array(await new Response(value).arrayBuffer());
  }
  async put(key, value, options) {
    this.count("put");
    await this.wait();
    const data = await this.bytesOf(value);
    const cond = options && options.onlyIf;
    const old = this.objects.get(key);
    if (cond && cond.etagDoesNotMatch === "*" && old) return null;
    if (cond && cond.etagMatches !== undefined && (!old || old.etag !== cond.etagMatches)) return null;
    return this.store(key, data);
  }
  async head(key) {
    this.count("head");
    await this.wait();
    const o = this.objects.get(key);
    return o ? this.meta(key, o) : null;
  }
  async get(key, options) {
    this.count("get");
    await this.wait();
    const o = this.objects.get(key);
    if (!o) return null;
    let data = o.data;
    const r = options && options.range;
    if (r && r.suffix !== undefined) {
      data = data.subarray(Math.max(0, data.byteLength - r.suffix));
    } else if (r) {
      const start = Math.min(r.offset ?? 0, data.byteLength);
      const end = r.length === undefined ? data.byteLength : Math.min(data.byteLength, start + r.length);
      data = data.subarray(start, end);
    }
    return Object.assign(this.meta(key, o), {
      bodyUsed: false,
      arrayBuffer: async () => data.slice().buffer,
    });
  }
  async delete(keys) {
    this.count("delete");
    await this.wait();
    for (const k of Array.isArray(keys) ? keys : [keys]) this.objects.delete(k);
  }
  async list(options) {
    this.count("list");
    await this.wait();
    const prefix = (options && options.prefix) || "";
    const limit = (options && options.limit) || 1000;
    const after = options && (options.cursor || options.startAfter);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (!after || k > after)).sort();
    const page = keys.slice(0, limit);
    const truncated = keys.length > limit;
    return {
      objects: page.map((k) => this.meta(k, this.objects.get(k))),
      truncated, cursor: truncated ? page[page.length - 1] : undefined, delimitedPrefixes: [],
    };
  }
  upload(key, uploadId) {
    const bucket = this;
    return {
      key, uploadId,
      async uploadPart(number, value) {
        bucket.count("uploadPart");
        await bucket.wait();
        bucket.uploads.get(uploadId).parts.set(number, await bucket.bytesOf(value));
        return { partNumber: number, etag: `p${uploadId}-${number}` };
      },
      async complete(parts) {
        bucket.count("complete");
        await bucket.wait();
        const u = bucket.uploads.get(uploadId);
        const chunks = parts.map((p) => u.parts.get(p.partNumber));
        const data = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
        let at = 0;
        for (const c of chunks) { data.set(c, at); at += c.byteLength; }
        bucket.uploads.delete(uploadId);
        return bucket.store(key, data);
      },
      async abort() { bucket.count("abort"); bucket.uploads.delete(uploadId); },
    };
  }
  async createMultipartUpload(key) {
    this.count("createMultipartUpload");
    await this.wait();
    const id = `u${this.uploads.size}-${this.puts}`;
    this.uploads.set(id, { key, parts: new Map() });
    return this.upload(key, id);
  }
  resumeMultipartUpload(key, uploadId) { return this.upload(key, uploadId); }
}

// workers-rs accepts a binding as a queue by its constructor's name. Holds
// what the Worker sends (a partition it sends back to be continued).
export class WorkerQueue {
  constructor() { this.sent = []; }
  async send(body) { this.sent.push(body); }
  async sendBatch(messages) { for (const m of messages) this.sent.push(m.body ?? m); }
}

const BUCKET = new R2Bucket();
const QUEUE = new WorkerQueue();
let lastLine = null;
// The Worker prints one JSON log line per request; keep the last one (its
// memory_bytes is the wasm linear memory after the request) instead of
// printing thousands of them.
console.log = (line) => { lastLine = line; };

// One queue delivery of `ids`, as Cloudflare Queues hands a consumer a batch.
function batchOf(ids) {
  const now = new Date();
  return {
    queue: "otlp2r2-compact",
    messages: ids.map((body, i) => ({
      id: `m${i}`, timestamp: now, body, attempts: 1, acked: false, retried: false,
      ack() { this.acked = true; }, retry() { this.retried = true; },
    })),
    ackAll() {}, retryAll() {},
  };
}

// The compaction bench (bench_worker.py --compact): PUT /bucket/<key> stores
// an input; POST /compact?partition=<table/hour>&<COMPACT_* var>=…
// [&R2_LATENCY_MS=n, each bucket call waiting n ms as a call to R2 does] runs the
// Worker's queue consumer on that partition, and again on every partition it
// sends back, until the queue is empty. Answers each run's log line (with
// memory_bytes, the wasm linear memory: it only grows, so the last is the
// peak) and the wall time of each delivery.
async function compaction(request, ctx) {
  const url = new URL(request.url);
  BUCKET.keep = true;
  if (url.pathname.startsWith("/bucket/")) {
    const key = decodeURIComponent(url.pathname.slice("/bucket/".length));
    BUCKET.store(key, new Uint8Array(await request.arrayBuffer()));
    return new Response("stored");
  }
  const env = { OTLP_BUCKET: BUCKET, COMPACT_QUEUE: QUEUE };
  for (const [k, v] of url.searchParams) if (k.startsWith("COMPACT_")) env[k] = v;
  BUCKET.latency = Number(url.searchParams.get("R2_LATENCY_MS") || 0);
  QUEUE.sent = [url.searchParams.get("partition")];
  const runs = [];
  while (QUEUE.sent.length) {
    const ids = QUEUE.sent;
    QUEUE.sent = [];
    lastLine = null;
    const started = performance.now();
    const batch = batchOf(ids);
    await new Worker(ctx, env).queue(batch);
    const ms = performance.now() - started;
    const line = lastLine && JSON.parse(lastLine);
    if (!line || line.error || !batch.messages.every((m) => m.acked)) {
      return Response.json({ error: line ? line.error || "not acked" : "no log line", line, runs }, { status: 500 });
    }
    runs.push({ ms, line });
  }
  const objects = [...BUCKET.objects.keys()].filter((k) => k.startsWith("otel_"));
  return Response.json({ runs, ops: BUCKET.ops, objects: objects.length,
    bytes: objects.reduce((n, k) => n + BUCKET.objects.get(k).data.byteLength, 0) });
}

export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/bucket/") || path === "/compact") return compaction(request, ctx);
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
