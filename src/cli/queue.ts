/** `memhyper worker` and the `--redis` option of the commands whose work spreads over a queue. */
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { DEFAULT_LOCK_MS } from "../queue/limits.js";
import type { Job } from "../queue/tasks.js";
import { workerName } from "../queue/tasks.js";
import { parseIntOption } from "./output.js";

/** Jobs per sweep: samples are split in chunks of this many (a few seconds of work each). */
export const SWEEP_CHUNK = 500;

export function addRedisOption(cmd: Command): Command {
  return cmd.option(
    "--redis <url>",
    "run the work on memhyper workers of this Redis queue (memhyper worker --redis URL); same result as locally",
  );
}

/** Runs jobs on the queue with a progress bar on a terminal; their results in job order. */
export async function onQueue<R>(url: string, jobs: readonly Job[], json: boolean): Promise<R[]> {
  const bar =
    process.stderr.isTTY && !json
      ? new SingleBar({ format: "queue {bar} {value}/{total} jobs", stream: process.stderr })
      : null;
  bar?.start(jobs.length, 0);
  const { runOnQueue } = await import("../queue/queue.js"); // BullMQ loads only for queued work
  try {
    return await runOnQueue<R>(
      url,
      jobs,
      (done) => bar?.update(done),
      (message) => process.stderr.write(`notice: ${message}\n`),
    );
  } finally {
    bar?.stop();
  }
}

/** [from, to) ranges of `chunk` covering 0 … n − 1. */
export function chunks(n: number, chunk: number): [number, number][] {
  const out: [number, number][] = [];
  for (let from = 0; from < n; from += chunk) out.push([from, Math.min(n, from + chunk)]);
  return out;
}

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description(
      "take memhyper jobs from a Redis queue until stopped (SIGTERM or Ctrl-C finish the jobs in hand)",
    )
    .requiredOption("--redis <url>", "the queue's Redis, e.g. redis://127.0.0.1:6379")
    .option("--concurrency <k>", "jobs at once", parseIntOption("concurrency", 1, 256), 1)
    .option("--data <dir>", "this machine's CIFAR-10 binary directory (for eval jobs)")
    .option(
      "--lock-ms <ms>",
      "a job whose worker stays silent this long is handed to another worker",
      parseIntOption("lock-ms", 1000, 3_600_000),
      DEFAULT_LOCK_MS,
    )
    .action(async (o: { redis: string; concurrency: number; data?: string; lockMs: number }) => {
      const { startWorker } = await import("../queue/queue.js");
      const worker = await startWorker(o.redis, {
        concurrency: o.concurrency,
        lockMs: o.lockMs,
        ...(o.data ? { dataDir: o.data } : {}),
        onJob: (job, state, detail) =>
          process.stderr.write(
            `worker ${workerName()}: job ${job.id} (${job.name}) ${state}${detail ? `: ${detail}` : ""}\n`,
          ),
      });
      process.stderr.write(
        `worker ${workerName()}: taking jobs from ${o.redis} (concurrency ${o.concurrency})\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.stderr.write(`worker ${workerName()}: stopping after the jobs in hand\n`);
          void worker.close().then(resolve);
        };
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
    });
}
