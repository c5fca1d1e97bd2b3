// The queue's cost: per-job overhead (tiny jobs through Redis and a worker, against the same
// work in process) and a noisy eval's throughput with 2 workers on this machine against the
// local run, both measured in this run. Needs redis-server and the built CLI (npm ci).
// Usage: node bench/queue/queue.mjs [--images N (default 1000)] [--trials K (default 4)] [--jobs J (default 200)]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { images: { type: "string", default: "1000" }, trials: { type: "string", default: "4" }, jobs: { type: "string", default: "200" } },
});
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const url = `redis://127.0.0.1:${port}`;
const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
for (let i = 0; i < 50 && !spawnSync("redis-cli", ["-p", String(port), "ping"]).stdout?.toString().includes("PONG"); i++)
  await new Promise((r) => setTimeout(r, 100));
const workers = [];
const startWorker = () =>
  new Promise((resolve) => {
    const w = spawn("node", ["bin/memhyper.js", "worker", "--redis", url]);
    workers.push(w);
    w.stderr.on("data", (d) => d.toString().includes("taking jobs") && resolve());
  });
await Promise.all([startWorker(), startWorker()]);
const { runOnQueue } = await import("../../dist/queue/queue.js");
const { runJob, fingerprint } = await import("../../dist/queue/tasks.js");
const { loadPreset } = await import("../../dist/hw/config.js");
try {
  // 1. Overhead: J jobs of one architecture each (C=4, 3 cells), queued vs in process.
  const J = Number(values.jobs);
  const config = loadPreset("default");
  const jobs = Array.from({ length: J }, (_, i) => ({ kind: "hw-sweep", from: i, to: i + 1, seed: 1, view: "edge", channels: 4, layers: 3, config }));
  let t = performance.now();
  for (const job of jobs) runJob({ fingerprint: fingerprint(), job }, { dataDir: "" });
  const inProcess = performance.now() - t;
  t = performance.now();
  await runOnQueue(url, jobs);
  const queued = performance.now() - t;
  // Two workers share the jobs: per job, the queue's wall time against the in-process work.
  console.log(`overhead: ${J} one-architecture jobs, in process ${inProcess.toFixed(0)} ms, on 2 workers ${queued.toFixed(0)} ms: ${((queued - inProcess / 2) / (J / 2)).toFixed(1)} ms per job and worker`);

  // 2. Throughput: a K-trial rram eval of PDARTS on N images, local against 2 workers.
  const args = ["bin/memhyper.js", "eval", "--genotype", "PDARTS", "--weights", "models/pdarts-c16-l8.safetensors", "--preset", "rram", "--trials", values.trials, "--limit", values.images, "--json"];
  t = performance.now();
  const local = JSON.parse(execFileSync("node", args, { encoding: "utf8" }));
  const localS = (performance.now() - t) / 1000;
  t = performance.now();
  const dist = JSON.parse(execFileSync("node", [...args, "--redis", url], { encoding: "utf8" }));
  const distS = (performance.now() - t) / 1000;
  const same = JSON.stringify(local.perTrial) === JSON.stringify(dist.perTrial);
  console.log(`eval rram PDARTS, ${values.trials} trials × ${values.images} images: local ${localS.toFixed(1)} s, 2 workers ${distS.toFixed(1)} s: throughput ×${(localS / distS).toFixed(2)}; results ${same ? "identical" : "DIFFER"}`);
} finally {
  for (const w of workers) w.kill("SIGTERM");
  redis.kill();
}
process.exit(0);
