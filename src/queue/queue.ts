/**
 * memhyper on a BullMQ queue over Redis: `runOnQueue` enqueues a command's jobs and collects
 * their results in job order; `startWorker` runs jobs. A job that throws fails the command
 * with its error and id and is not retried (one attempt); a job whose worker dies (its lock
 * expires) is stalled and handed to another worker, up to 3 times. Results are keyed by job, so none is
 * counted twice.
 */
import { randomUUID } from "node:crypto";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { type Job, Queue, QueueEvents, Worker } from "bullmq";
import { CONNECT_TIMEOUT_MS, MAX_STALLED, QUEUE_NAME } from "./limits.js";
import { type Envelope, fingerprint, type Job as MemhyperJob } from "./tasks.js";

export class QueueError extends Error {
  override name = "QueueError";
}

function connection(url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueError(`--redis must be a URL such as redis://127.0.0.1:6379, got '${url}'`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    throw new QueueError(`--redis must be a redis:// URL, got '${url}'`);
  return {
    url,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: null,
    // Give up after the first failed attempts: an unreachable server is an error, not a wait.
    retryStrategy: (times: number) => (times > 3 ? null : 200),
  };
}

/** Resolves when Redis answers, or fails with the fix within 5 s. */
async function reachable<T extends { waitUntilReady(): Promise<unknown> }>(what: T, url: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new QueueError(
            `cannot reach Redis at ${url} within ${CONNECT_TIMEOUT_MS / 1000} s: start redis-server there or fix --redis`,
          ),
        ),
      CONNECT_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([what.waitUntilReady(), timeout]);
    return what;
  } catch (e) {
    if (e instanceof QueueError) throw e;
    throw new QueueError(
      `cannot reach Redis at ${url}: ${(e as Error).message}; start redis-server there or fix --redis`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the jobs on the queue's workers and returns their results in job order. `onDone` is
 * called as each finishes (a progress bar); `notice` hears when no worker is connected yet.
 */
export async function runOnQueue<R>(
  url: string,
  jobs: readonly MemhyperJob[],
  onDone?: (done: number, total: number) => void,
  notice?: (message: string) => void,
): Promise<R[]> {
  const opts = { connection: connection(url) };
  const queue = await reachable(new Queue(QUEUE_NAME, opts), url);
  const events = await reachable(new QueueEvents(QUEUE_NAME, opts), url);
  // One completion listener per job waits on these: as many as there are jobs is no leak.
  queue.setMaxListeners(jobs.length + 10);
  events.setMaxListeners(jobs.length + 10);
  const run = randomUUID();
  const print = fingerprint();
  try {
    const added = await queue.addBulk(
      jobs.map((job, i) => ({
        name: job.kind,
        data: { fingerprint: print, job } satisfies Envelope,
        opts: {
          jobId: `${run}-${i}`,
          attempts: 1,
          removeOnComplete: { age: 3600 },
          removeOnFail: { age: 24 * 3600 },
        },
      })),
    );
    if ((await queue.getWorkers()).length === 0)
      notice?.(
        `no memhyper worker is connected to ${url}: its ${jobs.length === 1 ? "job waits" : `${jobs.length} jobs wait`} until one starts (memhyper worker --redis ${url})`,
      );
    let done = 0;
    const results = await Promise.all(
      added.map(async (job: Job) => {
        try {
          const r = (await job.waitUntilFinished(events)) as R;
          onDone?.(++done, jobs.length);
          return r;
        } catch (e) {
          throw new QueueError(`job ${job.id} (${job.name}) failed: ${(e as Error).message}`);
        }
      }),
    );
    return results;
  } finally {
    await events.close();
    await queue.close();
  }
}

export interface WorkerOptions {
  readonly concurrency: number;
  readonly lockMs: number;
  /** This machine's CIFAR-10 directory (eval jobs); default: $MEMHYPER_DATA or the usual place. */
  readonly dataDir?: string;
  readonly onJob?: (job: Job, state: "started" | "completed" | "failed", detail?: string) => void;
}

/** The sandboxed processor's file: `.ts` when running from the sources, `.js` when built. */
const PROCESSOR = fileURLToPath(
  new URL(`./processor${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/**
 * A worker taking memhyper jobs until `close()` (which finishes the jobs it holds). Each job
 * runs in a child process; one that throws is failed for good (it would throw again).
 */
export async function startWorker(url: string, opts: WorkerOptions): Promise<Worker> {
  if (opts.dataDir) process.env.MEMHYPER_DATA = opts.dataDir; // the children's dataset
  const worker = new Worker(QUEUE_NAME, PROCESSOR, {
    connection: connection(url),
    concurrency: opts.concurrency,
    lockDuration: opts.lockMs,
    stalledInterval: Math.max(1000, Math.floor(opts.lockMs / 2)),
    maxStalledCount: MAX_STALLED,
    autorun: false,
  });
  worker.on("active", (job) => opts.onJob?.(job, "started"));
  worker.on("completed", (job) => opts.onJob?.(job, "completed"));
  worker.on("failed", (job, err) => {
    if (job) opts.onJob?.(job, "failed", err.message);
  });
  await reachable(worker, url);
  void worker.run();
  return worker;
}
