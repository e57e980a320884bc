// Samples a Worker build with V8's CPU profiler inside workerd.
//
// usage: node --experimental-websocket scripts/workerd_profile.mjs INSPECTOR_PORT PORT BODY_FILE QUERY [FUNCTION]
//        (run by `scripts/bench_worker.py --profile`, which starts workerd with
//        bench-wasm/worker's driver on PORT and one host, "host0", around the build,
//        with its inspector on INSPECTOR_PORT; QUERY as for driver.js's /run, or a path
//        starting with "/" posted as it is with BODY_FILE, "-" for none: `--profile-compact`
//        posts "/compact?partition=…")
//
// Attaches to the host isolate through the inspector, profiles one /run (warm-up and rounds),
// and prints the functions with the most samples: self time, and the time under each one
// (inclusive); with FUNCTION (a substring of a name), also which callers FUNCTION's samples come
// from. Keep the build's wasm "name" section, or every frame is "wasm-function[N]".
import { readFileSync } from "node:fs";

const [inspector, port, bodyFile, query, focus] = process.argv.slice(2);
if (!bodyFile || !query) {
  console.error("usage: workerd_profile.mjs INSPECTOR_PORT PORT BODY_FILE QUERY [FUNCTION]");
  process.exit(2);
}

try {
  // Poll until the host's isolate is listed: the inspector answers before
  // every worker has registered.
  let target;
  let targets = [];
  for (let i = 0; i < 200 && !target; i++) {
    try { targets = await (await fetch(`http://127.0.0.1:${inspector}/json/list`)).json(); } catch { targets = []; }
    target = targets.find((t) => t.id === "host0" || (t.title || "").endsWith(" host0"));
    if (!target) await new Promise((r) => setTimeout(r, 100));
  }
  if (!target) throw new Error(`no inspector target for host0: ${JSON.stringify(targets)}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, err) => { ws.onopen = ok; ws.onerror = err; });
  let next = 1;
  const pending = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  };
  const send = (method, params = {}) => new Promise((ok) => { const id = next++; pending.set(id, ok); ws.send(JSON.stringify({ id, method, params })); });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  const url = query.startsWith("/") ? query : `/run?builds=1&${query}`;
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${port}${url}`, { method: "POST", body: bodyFile === "-" ? "" : readFileSync(bodyFile) });
  const run = await res.json();
  const wall = Date.now() - started;
  const { result } = await send("Profiler.stop");
  ws.close();
  if (run.error) throw new Error(JSON.stringify(run.error));

  const { nodes, samples } = result.profile;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of nodes) for (const c of n.children || []) parent.set(c, n.id);
  const self = new Map();
  const total = new Map();
  const hits = new Map();
  for (const s of samples) hits.set(s, (hits.get(s) || 0) + 1);
  const name = (n) => n.callFrame.functionName || `(${n.callFrame.url || "anonymous"})`;
  for (const [id, count] of hits) {
    const n = byId.get(id);
    self.set(name(n), (self.get(name(n)) || 0) + count);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const nm = name(byId.get(cur));
      if (!seen.has(nm)) { seen.add(nm); total.set(nm, (total.get(nm) || 0) + count); }
    }
  }
  const all = samples.length;
  const idle = (self.get("(idle)") || 0) + (self.get("(program)") || 0);
  const busy = all - idle;
  const pct = (x) => `${(100 * x / busy).toFixed(1).padStart(5)} %`;
  const timing = run.builds ? `median ${run.builds[0].median_ms.toFixed(2)} ms per request` : `${wall} ms wall for ${url}`;
  console.log(`${busy} busy samples of ${all} (100 µs each); ${timing}`);
  console.log("\nself time (busy samples):");
  for (const [nm, c] of [...self].filter(([n]) => n !== "(idle)" && n !== "(program)").sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${pct(c)}  ${nm.slice(0, 140)}`);
  console.log("\ninclusive time:");
  for (const [nm, c] of [...total].filter(([n]) => n !== "(root)" && n !== "(idle)" && n !== "(program)").sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${pct(c)}  ${nm.slice(0, 140)}`);
  if (focus) {
    const callers = new Map();
    for (const [id, count] of hits) {
      if (!name(byId.get(id)).includes(focus)) continue;
      const up = byId.get(parent.get(id));
      const nm = up ? name(up) : "(none)";
      callers.set(nm, (callers.get(nm) || 0) + count);
    }
    console.log(`\ncallers of ${focus} (its self samples):`);
    for (const [nm, c] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(c)}  ${nm.slice(0, 140)}`);
  }
} catch (e) {
  console.error(e);
  process.exitCode = 1;
}
