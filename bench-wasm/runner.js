// The bench-wasm runner: a workerd Worker that times the harness's stages.
//
// GET  /fixture?workload=<id>  builds the workload's request body with the
//      shared fixture generator and returns it (header x-records: records).
// POST /run?workload=<id>&records=<n>&library=<otlp2r2|otlp2records>&stage=<e2e|decode|transform|write>
//      with that body: loads it into a fresh instance, warms up, then runs
//      ROUNDS timed rounds. Each round runs enough iterations to last at least
//      MIN_ROUND_MS (workerd's clock has 1 ms resolution, so short calls are
//      timed in batches) and records the mean per iteration. Answers JSON with
//      every round, the median, and the wasm memory size before and after:
//      linear memory only grows, so "after" is the peak of the whole run.
import { initSync, prepare, records, body, load, run, memory_bytes } from "./otlp2r2_bench_wasm.js";
import wasmModule from "./otlp2r2_bench_wasm_bg.wasm";

const WARMUP = 3;
const ROUNDS = 9;
const MIN_ROUND_MS = 150;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const workload = url.searchParams.get("workload");
    try {
      initSync({ module: wasmModule });
      if (url.pathname === "/fixture") {
        prepare(workload);
        return new Response(body(), { headers: { "x-records": String(records()) } });
      }
      if (url.pathname !== "/run") return new Response("not found", { status: 404 });
      const library = url.searchParams.get("library") || "otlp2r2";
      const stage = url.searchParams.get("stage") || "e2e";
      const bytes = new Uint8Array(await request.arrayBuffer());
      const memoryStart = memory_bytes();
      load(workload, bytes, Number(url.searchParams.get("records") || 0));
      const memoryLoaded = memory_bytes();
      for (let i = 0; i < WARMUP; i++) run(library, stage);
      let t = performance.now();
      run(library, stage);
      const single = Math.max(performance.now() - t, 0.05);
      const perRound = Math.max(1, Math.ceil(MIN_ROUND_MS / single));
      const rounds = [];
      for (let r = 0; r < ROUNDS; r++) {
        t = performance.now();
        for (let i = 0; i < perRound; i++) run(library, stage);
        rounds.push((performance.now() - t) / perRound);
      }
      const sorted = [...rounds].sort((a, b) => a - b);
      return Response.json({
        workload, library, stage, records: records(), body_bytes: bytes.length,
        iterations_per_round: perRound, rounds_ms: rounds,
        median_ms: sorted[Math.floor(sorted.length / 2)],
        memory_start_bytes: memoryStart, memory_loaded_bytes: memoryLoaded,
        memory_peak_bytes: memory_bytes(),
      });
    } catch (e) {
      return Response.json({ workload, error: String((e && e.stack) || e) }, { status: 500 });
    }
  },
};
