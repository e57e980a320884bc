// WASM side of `make bench-inflate`: the same candidates in workerd, rounds
// interleaved, ten calls per timing (workerd's clock reads whole ms).
import module from "./inflate_compare.wasm";
import body from "./body.gz";

const wasm = new WebAssembly.Instance(module, {}).exports;
const bytes = new Uint8Array(body);
const at = wasm.body_alloc(bytes.length); // may grow the memory: take its buffer after
new Uint8Array(wasm.memory.buffer, at, bytes.length).set(bytes);

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("candidates"));
    const rounds = Number(url.searchParams.get("rounds") || 15);
    const times = Array.from({ length: n }, () => []);
    for (let i = 0; i < n; i++) wasm.run(i); // warm up, and decode once for the CRC rows
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < n; i++) {
        const start = performance.now();
        for (let k = 0; k < 10; k++) if (wasm.run(i) < 0) return new Response(`candidate ${i} failed`, { status: 500 });
        times[i].push((performance.now() - start) / 10);
      }
    }
    return Response.json(times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]));
  },
};
