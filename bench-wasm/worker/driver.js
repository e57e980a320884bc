// Times the deployed Worker builds' fetch handlers (host.js) inside workerd.
//
// One workerd serves this driver and one host per build (bindings OTLP0,
// OTLP1, …). Requests to the builds are interleaved in short batches, so a
// slow phase of this shared machine (it comes and goes for seconds, doubling
// every time) hits every build alike; each round times one batch per build.
//
// POST /run?builds=N&path=/v1/logs&type=application/x-protobuf&gzip=0|1&mode=full|read|js-read
//      with a request body (gzipped here first when gzip=1).
//      mode=full     the whole request; the Worker answers 200.
//      mode=read     the body with `Content-Encoding: gzip` although it is
//                    not gzip: the Worker answers 400 right after reading it,
//                    so that time is the body read alone.
//      mode=js-read  the host reads the body in JavaScript and answers 400
//                    without calling the Worker: the platform's own floor.
//      Answers JSON: per build, every round's mean ms per request, their
//      median, each round's ratio to build 0, the first request's ms (a cold
//      isolate) and the Worker's last log line.
//      &peer=<workload>&records=<n> (mode=full, no gzip) also times the peer's
//      bare conversion of the same body (binding PEER, peer.js) in the same
//      rounds, as one more participant: `peer` in the answer, its rounds and
//      its per-round ratio to build 0.
// PUT /bucket/<key>, POST /compact?…  go to the first build's host as they are
//      (the compaction bench, see host.js).
const WARMUP_MS = 1500; // V8 tiers wasm up in the background; let it finish
const ROUNDS = 15;
const BATCH_MS = 60;

async function gzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = (name, d) => url.searchParams.get(name) ?? d;
    // The compaction bench talks to the first build's host directly.
    if (url.pathname.startsWith("/bucket/") || url.pathname === "/compact") {
      return env.OTLP0.fetch(new Request(`http://worker${url.pathname}${url.search}`, request));
    }
    try {
      const builds = Number(q("builds", "1"));
      const path = q("path", "/v1/logs");
      const mode = q("mode", "full");
      let body = new Uint8Array(await request.arrayBuffer());
      const headers = { "content-type": q("type", "application/x-protobuf") };
      if (q("gzip", "0") === "1") {
        body = await gzip(body);
        headers["content-encoding"] = "gzip";
      }
      if (mode === "read") headers["content-encoding"] = "gzip";
      if (mode === "js-read") headers["x-bench-js-read"] = "1";
      const expect = mode === "full" ? 200 : 400;
      const lines = [];
      const peer = q("peer", "");
      if (peer) {
        const load = `http://peer/load?workload=${encodeURIComponent(peer)}&records=${q("records", "0")}`;
        const r = await env.PEER.fetch(load, { method: "POST", body });
        if (r.status !== 200) throw new Error(`peer: ${await r.text()}`);
      }
      const parties = builds + (peer ? 1 : 0); // the peer, if any, is the last
      const once = async (b) => {
        if (b === builds) {
          const r = await env.PEER.fetch("http://peer/run", { method: "POST" });
          const text = await r.text();
          if (r.status !== 200) throw new Error(`peer: status ${r.status}: ${text.slice(0, 300)}`);
          return;
        }
        const r = await env[`OTLP${b}`].fetch(`http://worker${path}`, { method: "POST", headers, body });
        const text = await r.text();
        if (r.status !== expect) throw new Error(`build ${b}: status ${r.status}, expected ${expect}: ${text.slice(0, 300)}`);
        lines[b] = r.headers.get("x-log-line");
      };
      // Warm every build up, and size the batches from the warm times. The
      // first request of each build is its isolate's first: V8 compiles the
      // wasm as it runs (first_ms).
      const batch = [];
      const first = [];
      for (let b = 0; b < parties; b++) {
        const start = performance.now();
        await once(b);
        first[b] = performance.now() - start;
        let n = 1;
        while (n < 3 || performance.now() - start < WARMUP_MS) { await once(b); n++; }
        const t = performance.now();
        await once(b);
        batch[b] = Math.max(1, Math.ceil(BATCH_MS / Math.max(performance.now() - t, 0.05)));
      }
      const per = Math.max(...batch);
      const rounds = Array.from({ length: parties }, () => []);
      for (let r = 0; r < ROUNDS; r++) {
        for (let i = 0; i < parties; i++) {
          const b = (r + i) % parties; // rotate who goes first
          const t = performance.now();
          for (let k = 0; k < per; k++) await once(b);
          rounds[b].push((performance.now() - t) / per);
        }
      }
      const summary = (rs) => ({
        rounds_ms: rs,
        median_ms: median(rs),
        ratio_to_first: median(rs.map((x, r) => x / rounds[0][r])),
      });
      return Response.json({
        path, mode, gzip: q("gzip", "0") === "1", body_bytes: body.length, requests_per_batch: per,
        peer: peer ? { ...summary(rounds[builds]), first_ms: first[builds] } : null,
        builds: rounds.slice(0, builds).map((rs, b) => ({
          ...summary(rs),
          first_ms: first[b],
          log_line: lines[b] && JSON.parse(lines[b]),
        })),
      });
    } catch (e) {
      return Response.json({ error: String((e && e.stack) || e) }, { status: 500 });
    }
  },
};
