// Times the deployed Worker build's fetch handler (host.js) inside workerd.
//
// POST /run?path=/v1/logs&type=application/x-protobuf&gzip=0|1&mode=full|read
//      with a request body: sends it to the Worker through a service binding
//      (gzipped here first when gzip=1), warms up, then runs ROUNDS timed
//      rounds of enough sequential requests to last MIN_ROUND_MS (workerd's
//      clock has 1 ms resolution). mode=read sends the body with
//      `Content-Encoding: gzip` although it is not gzip: the Worker answers
//      400 right after reading it, so that time is the body read alone.
//      mode=js-read has the host read the body in JavaScript and answer 400
//      without calling the Worker: the platform's own floor for that read.
//      Answers JSON: every round, the median, and the Worker's last log line.
const WARMUP = 3;
const ROUNDS = 9;
const MIN_ROUND_MS = 150;

async function gzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = (name, d) => url.searchParams.get(name) ?? d;
    try {
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
      let line = null;
      const once = async () => {
        const r = await env.OTLP.fetch(`http://worker${path}`, { method: "POST", headers, body });
        const text = await r.text();
        if (r.status !== expect) throw new Error(`status ${r.status}, expected ${expect}: ${text.slice(0, 300)}`);
        line = r.headers.get("x-log-line");
      };
      for (let i = 0; i < WARMUP; i++) await once();
      let t = performance.now();
      await once();
      const single = Math.max(performance.now() - t, 0.05);
      const perRound = Math.max(1, Math.ceil(MIN_ROUND_MS / single));
      const rounds = [];
      for (let r = 0; r < ROUNDS; r++) {
        t = performance.now();
        for (let i = 0; i < perRound; i++) await once();
        rounds.push((performance.now() - t) / perRound);
      }
      const sorted = [...rounds].sort((a, b) => a - b);
      return Response.json({
        path, mode, body_bytes: body.length, gzip: q("gzip", "0") === "1",
        iterations_per_round: perRound, rounds_ms: rounds,
        median_ms: sorted[Math.floor(sorted.length / 2)],
        log_line: line && JSON.parse(line),
      });
    } catch (e) {
      return Response.json({ error: String((e && e.stack) || e) }, { status: 500 });
    }
  },
};
