/**
 * The BullMQ queue against a real Redis server: distributed runs equal local ones, a worker
 * killed mid-job loses nothing, failures and an unreachable server are reported clearly.
 * Uses $MEMHYPER_TEST_REDIS (started by .ci/run) or starts its own redis-server; without one
 * the suite is skipped with a notice (under CI a missing server fails it).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Model } from "../src/engine/model.js";
import { saveModel } from "../src/engine/safetensors.js";
import { hardwareOf, loadPreset } from "../src/hw/config.js";
import { sweep } from "../src/hw/sweep.js";
import { hyperSweep } from "../src/hyper/sweep.js";
import { buildNetwork } from "../src/ir/network.js";
import { resolveArchitecture } from "../src/space/architecture.js";
import { Supernet } from "../src/train/supernet.js";
import { runCli, SLOW_TIER, writeSyntheticCifar } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const digital = hardwareOf(loadPreset("default"));
/** tsx by absolute URL: a worker started in another folder must still load the sources. */
const TSX = import.meta.resolve("tsx");
const installed = spawnSync("redis-server", ["--version"]).status === 0;
const given = process.env.MEMHYPER_TEST_REDIS;
if (!given && !installed) {
  if (process.env.CI)
    throw new Error("CI: redis-server is missing (.ci/run installs it with apt-get install redis-server)");
  process.stderr.write(
    "notice: queue tests skipped: no redis-server (install it with 'apt-get install redis-server', or set MEMHYPER_TEST_REDIS=redis://HOST:PORT)\n",
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs the CLI asynchronously (the queue's client waits on workers in other processes). */
function cli(args: string[], cwd = ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", TSX, join(ROOT, "src/cli/run.ts"), ...args], { cwd });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** JSON of a result without its timing. */
const untimed = (s: string) => {
  const { seconds: _s, ...rest } = JSON.parse(s);
  return rest;
};

describe("queue (BullMQ over a real Redis)", { skip: !given && !installed }, () => {
  let url = given ?? "";
  let server: ChildProcess | null = null;
  const workers: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), "mh-queue-"));
  const data = join(dir, "data");
  const weights = join(dir, "w.safetensors");

  /** A worker process; resolves once it takes jobs. Its log lines go to `lines`. */
  function worker(lines: string[] = [], cwd = ROOT): Promise<ChildProcess> {
    const p = spawn(
      process.execPath,
      [
        "--import",
        TSX,
        join(ROOT, "src/cli/run.ts"),
        "worker",
        "--redis",
        url,
        "--lock-ms",
        "2000",
        "--data",
        data,
      ],
      { cwd },
    );
    workers.push(p);
    return new Promise((resolve, reject) => {
      p.stderr!.on("data", (d: Buffer) => {
        lines.push(...d.toString().split("\n").filter(Boolean));
        if (d.toString().includes("taking jobs")) resolve(p);
      });
      p.on("exit", (code) => reject(new Error(`worker exited with ${code}: ${lines.join("\n")}`)));
    });
  }

  before(async () => {
    if (!given) {
      const port = await freePort();
      server = spawn("redis-server", [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ]);
      url = `redis://127.0.0.1:${port}`;
      for (let i = 0; i < 50; i++) {
        if (
          spawnSync("redis-cli", ["-p", String(port), "ping"])
            .stdout?.toString()
            .includes("PONG")
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    writeSyntheticCifar(data, 60, 5);
    saveModel(
      new Model(buildNetwork(resolveArchitecture("DARTS_V2"), { channels: 4, layers: 3 }), 3),
      weights,
    );
  });

  after(() => {
    for (const w of workers) w.kill("SIGKILL");
    server?.kill("SIGKILL");
  });

  // The slow tier: npm test keeps the killed-worker run, which checks a distributed sweep too.
  it("hw sweep of 2,000 architectures and a hyper sweep: distributed = local", SLOW_TIER, async () => {
    await worker();
    await worker();
    const queued = await cli(
      [
        "hw",
        "sweep",
        "--samples",
        "2000",
        "--seed",
        "5",
        "--channels",
        "8",
        "--layers",
        "5",
        "--json",
      ].concat(["--redis", url]),
    );
    assert.equal(queued.code, 0, queued.stderr);
    // The local run's numbers, computed here (the CLI prints exactly these).
    assert.deepEqual(JSON.parse(queued.stdout).metrics, sweep(2000, 5, "edge", 8, 5, digital).metrics);
    const hq = await cli(
      [
        "hyper",
        "sweep",
        "--samples",
        "30",
        "--seed",
        "2",
        "--channels",
        "4",
        "--layers",
        "3",
        "--json",
      ].concat(["--redis", url]),
    );
    assert.equal(hq.code, 0, hq.stderr);
    const local = hyperSweep({ channels: 4, layers: 3, variant: "edge" }, 30, 2, "edge", digital);
    assert.deepEqual(JSON.parse(hq.stdout).metrics, JSON.parse(JSON.stringify(local.metrics)));
  });

  it("eval with 3 rram trials on 50 images: distributed = local", SLOW_TIER, async () => {
    const args = ["eval", "--genotype", "DARTS_V2", "--channels", "4", "--layers", "3", "--weights", weights];
    const more = ["--data", data, "--preset", "rram", "--trials", "3", "--limit", "50", "--json"];
    const local = await cli([...args, ...more]);
    assert.equal(local.code, 0, local.stderr);
    const queued = await cli([...args, ...more, "--redis", url]);
    assert.equal(queued.code, 0, queued.stderr);
    assert.deepEqual(untimed(queued.stdout), untimed(local.stdout));
    assert.equal(JSON.parse(queued.stdout).perTrial.length, 3);
  });

  it(
    "hyper stats (3 rram trials on 10 images, individual and hypernetwork): distributed = local",
    SLOW_TIER,
    async () => {
      const args = ["hyper", "stats", "--genotype", "DARTS_V2", "--channels", "4", "--layers", "3"];
      // rram with a calibrated ADC range from 8 images instead of 64 (its per-trial cost dominates here).
      const config = join(dir, "rram-quick.json");
      writeFileSync(config, JSON.stringify({ base: "rram", adc: { calibrationImages: 8 } }));
      const more = [
        "--weights",
        weights,
        "--data",
        data,
        "--config",
        config,
        "--trials",
        "3",
        "--limit",
        "10",
      ];
      const local = await cli([...args, ...more, "--json"]);
      assert.equal(local.code, 0, local.stderr);
      const queued = await cli([...args, ...more, "--json", "--redis", url]);
      assert.equal(queued.code, 0, queued.stderr);
      assert.deepEqual(untimed(queued.stdout), untimed(local.stdout));
      const r = JSON.parse(queued.stdout);
      assert.equal(r.individual.perTrial.length, 3);
      assert.equal(r.hypernetwork.perTrial.length, 3);
    },
  );

  it(
    "search (4 architectures on the supernet's shared weights): distributed = local",
    SLOW_TIER,
    async () => {
      const shared = join(dir, "supernet.safetensors");
      saveModel(new Supernet(4, 3, false, 5).store, shared);
      const args = ["search", "--channels", "4", "--layers", "3", "--weights", shared, "--data", data];
      const more = [
        "--budget",
        "4",
        "--population",
        "2",
        "--validation",
        "16",
        "--recalibrate",
        "8",
        "--json",
      ];
      const local = await cli([...args, ...more]);
      assert.equal(local.code, 0, local.stderr);
      const queued = await cli([...args, ...more, "--redis", url]);
      assert.equal(queued.code, 0, queued.stderr);
      const { evaluationsPerSecond: _a, ...l } = untimed(local.stdout);
      const { evaluationsPerSecond: _b, ...q } = untimed(queued.stdout);
      assert.deepEqual(q, l);
      assert.equal(q.evaluations, 4);
    },
  );

  it(
    "supernet eval (2 rram trials on 20 images on the shared weights): distributed = local",
    SLOW_TIER,
    async () => {
      const shared = join(dir, "supernet-eval.safetensors");
      saveModel(new Supernet(4, 3, false, 6).store, shared);
      const args = ["supernet", "eval", "--genotype", "PDARTS", "--channels", "4", "--layers", "3"];
      const more = [
        "--weights",
        shared,
        "--data",
        data,
        "--preset",
        "rram",
        "--trials",
        "2",
        "--limit",
        "20",
      ];
      const local = await cli([...args, ...more, "--recalibrate", "16", "--json"]);
      assert.equal(local.code, 0, local.stderr);
      const queued = await cli([...args, ...more, "--recalibrate", "16", "--json", "--redis", url]);
      assert.equal(queued.code, 0, queued.stderr);
      assert.deepEqual(untimed(queued.stdout), untimed(local.stdout));
    },
  );

  it("a worker killed with SIGKILL mid-job: its job goes to another worker, the result is complete and equal", async () => {
    for (const w of workers.splice(0)) w.kill("SIGKILL");
    const lines: string[] = [];
    const victim = await worker(lines);
    const args = [
      "hw",
      "sweep",
      "--samples",
      "1000",
      "--seed",
      "8",
      "--channels",
      "8",
      "--layers",
      "5",
      "--json",
    ];
    const run = cli([...args, "--redis", url]);
    // Kill the only worker inside its first job, then bring up the one that takes over.
    while (!lines.some((l) => l.includes("started"))) await new Promise((r) => setTimeout(r, 20));
    victim.kill("SIGKILL");
    await worker();
    const queued = await run;
    assert.equal(queued.code, 0, queued.stderr);
    assert.deepEqual(JSON.parse(queued.stdout).metrics, sweep(1000, 8, "edge", 8, 5, digital).metrics);
  });

  it("a job that fails (weights missing on the worker) fails the command with the job id, the file and the worker", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "mh-worker-"));
    for (const w of workers.splice(0)) w.kill("SIGKILL");
    await worker([], elsewhere);
    const r = await cli(
      [
        "eval",
        "--genotype",
        "DARTS_V2",
        "--channels",
        "4",
        "--layers",
        "3",
        "--weights",
        "w.safetensors",
      ].concat(["--data", data, "--preset", "rram", "--limit", "10", "--redis", url]),
      dir,
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /job \S+ \(eval\) failed: worker \S+: weights file w\.safetensors not found/);
  });

  it("an unreachable Redis: a clear error within 5 s and a non-zero exit", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = runCli("hw", "sweep", "--samples", "10", "--seed", "1", "--redis", `redis://127.0.0.1:${port}`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
    assert.ok(Date.now() - t0 < 5000 + 4000, "within 5 s (plus the CLI's start)");
  });
});
