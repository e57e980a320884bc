// The peer's bare conversion, for bench_worker.py to time beside the Worker.
//
// The bench-wasm harness (pkg/, built at its own opt-level 3) holds the peer,
// otlp2records 0.11: its whole job, bytes → Arrow record batches → Snappy
// Parquet, with no HTTP, no limits and no store.
//
// POST /load?workload=<id>&records=<n>  with the request body: keeps it.
// POST /run                              converts the kept body once; 200.
// The driver loads the body once, so the timed calls carry no body: the
// peer is timed without the body transfer the Worker's requests include.
import { initSync, load, run } from "./otlp2r2_bench_wasm.js";
import wasmModule from "./otlp2r2_bench_wasm_bg.wasm";

let ready = false;

export default {
  async fetch(request) {
    try {
      if (!ready) {
        initSync({ module: wasmModule });
        ready = true;
      }
      const url = new URL(request.url);
      if (url.pathname === "/load") {
        const bytes = new Uint8Array(await request.arrayBuffer());
        load(url.searchParams.get("workload"), bytes, Number(url.searchParams.get("records") || 0));
        return new Response("loaded");
      }
      return new Response(String(run("otlp2records", "e2e")));
    } catch (e) {
      return new Response(String((e && e.stack) || e), { status: 500 });
    }
  },
};
