/**
 * The work memhyper hands to queue workers: each task kind splits a command's work into jobs
 * (pure data, so a worker on another machine can run them), runs one job, and merges the jobs'
 * results into exactly what the local run computes. Random streams are keyed by the work
 * (sample index, trial, image), never by the worker.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { loadSplit, slice, TEST_FILE, TRAIN_FILES, take } from "../data/cifar10.js";
import { nativeKernels } from "../engine/kernels/index.js";
import { type HardwareConfig, hardwareOf, parseHardwareConfig } from "../hw/config.js";
import { SWEEP_METRICS, type SweepMetric, sweepValues } from "../hw/sweep.js";
import { type Deployment, deploy } from "../hyper/deployment.js";
import type { HyperSpec } from "../hyper/hardware.js";
import { RATIO_METRICS, type RatioMetric, ratioValues } from "../hyper/sweep.js";
import { type ArchitectureScorer, architectureScorer, type ScoreSetup } from "../search/objectives.js";
import { resolveArchitecture } from "../space/architecture.js";
import { decodeConfiguration } from "../space/code.js";
import type { SpaceView } from "../space/sample.js";
import { VERSION } from "../version.js";
import { calibrationImages, trialCorrect } from "../xbar/accuracy.js";

/** What must match between the enqueuing machine and a worker for results to be bit-identical. */
export interface Fingerprint {
  readonly memhyper: string;
  readonly kernels: string;
}

/** The kernels' build and the instruction set they run on: float summation order depends on both. */
export function fingerprint(): Fingerprint {
  const native = nativeKernels();
  const info = native?.info();
  let cpu = "unknown";
  try {
    const text = readFileSync("/proc/cpuinfo", "utf8");
    const flags = /^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? "";
    cpu = createHash("sha256").update(flags).digest("hex").slice(0, 16);
  } catch {
    // not Linux: the architecture alone
  }
  return {
    memhyper: VERSION,
    kernels: native
      ? `native ${info?.isa} blas=${info?.blas} ${process.arch} cpu-flags ${cpu}`
      : `typescript ${process.arch}`,
  };
}

/** SHA-256 of files' contents (weights, dataset), cached per path and size. */
const hashes = new Map<string, string>();
export function contentHash(paths: readonly string[]): string {
  const key = paths.join("\n");
  const known = hashes.get(key);
  if (known) return known;
  const h = createHash("sha256");
  for (const p of paths) h.update(readFileSync(p));
  const digest = h.digest("hex");
  hashes.set(key, digest);
  return digest;
}

export const datasetFiles = (dir: string): string[] => [...TRAIN_FILES, TEST_FILE].map((f) => join(dir, f));

export interface SweepJob {
  readonly kind: "hw-sweep";
  readonly from: number;
  readonly to: number;
  readonly seed: number;
  readonly view: SpaceView;
  readonly channels: number;
  readonly layers: number;
  readonly config: HardwareConfig;
}

export interface HyperSweepJob {
  readonly kind: "hyper-sweep";
  readonly from: number;
  readonly to: number;
  readonly seed: number;
  readonly view: SpaceView;
  readonly spec: HyperSpec;
  readonly config: HardwareConfig;
}

export interface EvalJob {
  readonly kind: "eval";
  readonly trial: number;
  readonly from: number;
  readonly to: number;
  readonly seed: number;
  readonly arch: string;
  readonly channels: number;
  readonly layers: number;
  readonly weights: string;
  readonly weightsSha256: string;
  readonly datasetSha256: string;
  readonly limit: number | null;
  readonly config: HardwareConfig;
  /** How the weights reach the hardware (individual, hypernetwork, supernet). */
  readonly deployment: Deployment;
}

/** One architecture of `memhyper search`: its accuracy on the shared weights and its cost. */
export interface SearchJob {
  readonly kind: "search";
  readonly code: string;
  readonly setup: ScoreSetup;
  readonly weightsSha256: string;
  readonly datasetSha256: string;
  readonly config: HardwareConfig;
}

export type Job = SweepJob | HyperSweepJob | EvalJob | SearchJob;

/** What a job carries besides its work: who may run it. */
export interface Envelope {
  readonly fingerprint: Fingerprint;
  readonly job: Job;
}

export class JobError extends Error {
  override name = "JobError";
}

/** Where a worker finds the dataset (its own --data, else the usual places). */
export interface WorkerContext {
  readonly dataDir: string;
}

/** Runs one job; refuses it when this machine could not reproduce the enqueuing machine's bits. */
export function runJob(envelope: Envelope, ctx: WorkerContext): unknown {
  const mine = fingerprint();
  const theirs = envelope.fingerprint;
  for (const k of ["memhyper", "kernels"] as const)
    if (mine[k] !== theirs[k])
      throw new JobError(
        `worker ${workerName()} refuses the job: its ${k === "memhyper" ? "memhyper version" : "kernels"} '${mine[k]}' differ from the enqueuing machine's '${theirs[k]}' (results would not be bit-identical); run workers of the same build on the same instruction set`,
      );
  const job = envelope.job;
  const hw = () => hardwareOf(parseHardwareConfig(job.config));
  switch (job.kind) {
    case "hw-sweep":
      return sweepValues(job.from, job.to, job.seed, job.view, job.channels, job.layers, hw());
    case "hyper-sweep":
      return ratioValues(job.spec, job.from, job.to, job.seed, job.view, hw());
    case "eval":
      return { correct: evalChunk(job, ctx) };
    case "search":
      checkInputs(job.setup.weights, job.weightsSha256, job.datasetSha256, ctx);
      return searchScorer(job, ctx).score(decodeConfiguration(job.code));
  }
}

export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

/** Correct test images of one trial in [from, to): the same devices and noise as the local run's. */
function evalChunk(job: EvalJob, ctx: WorkerContext): number {
  checkInputs(job.weights, job.weightsSha256, job.datasetSha256, ctx);
  const { trial, from, to, seed, ...setup } = job;
  // Calibration (and the supernet's recalibration) is the same for every trial and range.
  const { sim, calib, test } = reuse([setup, ctx.dataDir], () => {
    const train = loadSplit(ctx.dataDir, "train");
    const fullTest = loadSplit(ctx.dataDir, "test");
    const calib = calibrationImages(train, job.config);
    const deployed = deploy(job.deployment, {
      arch: resolveArchitecture(job.arch),
      channels: job.channels,
      layers: job.layers,
      weights: job.weights,
      train: () => train,
    });
    return {
      sim: deployed.simulator(job.config, calib),
      calib,
      test: job.limit ? take(fullTest, job.limit) : fullTest,
    };
  });
  sim.program(seed, trial, calib);
  return trialCorrect(sim, slice(test, from, to), from);
}

/** The weights and the dataset a job was enqueued with are the ones this worker reads. */
function checkInputs(
  weightsPath: string,
  weightsSha256: string,
  datasetSha256: string,
  ctx: WorkerContext,
): void {
  let weights: Buffer;
  try {
    weights = readFileSync(weightsPath);
  } catch {
    throw new JobError(
      `worker ${workerName()}: weights file ${weightsPath} not found; copy it there (or share the folder) with the same path`,
    );
  }
  if (createHash("sha256").update(weights).digest("hex") !== weightsSha256)
    throw new JobError(
      `worker ${workerName()}: ${weightsPath} differs from the enqueuing machine's file (SHA-256)`,
    );
  if (contentHash(datasetFiles(ctx.dataDir)) !== datasetSha256)
    throw new JobError(
      `worker ${workerName()}: the CIFAR-10 files in ${ctx.dataDir} differ from the enqueuing machine's (SHA-256); give the worker --data with the same dataset`,
    );
}

/** The scorer of a search's jobs (loading the supernet takes a second). */
function searchScorer(job: SearchJob, ctx: WorkerContext): ArchitectureScorer {
  return reuse([job.setup, job.config, job.weightsSha256, ctx.dataDir], () =>
    architectureScorer(
      job.setup,
      hardwareOf(parseHardwareConfig(job.config)),
      loadSplit(ctx.dataDir, "train"),
    ),
  );
}

/**
 * What the previous job built, when this job's setup (`key`) is the same: a worker's jobs of
 * one command share it. A job runs alone in its process, so one entry suffices.
 */
let previous: { key: string; value: unknown } | null = null;
function reuse<T>(key: unknown, build: () => T): T {
  const k = JSON.stringify(key);
  if (previous?.key !== k) previous = { key: k, value: build() };
  return previous.value as T;
}

export type SweepValues = Record<SweepMetric, number[]>;
export type RatioValues = Record<RatioMetric, number[]>;

/** Concatenates per-job metric arrays in job order. */
export function concatValues<M extends string>(
  metrics: readonly M[],
  parts: readonly Record<M, number[]>[],
): Record<M, number[]> {
  return Object.fromEntries(metrics.map((m) => [m, parts.flatMap((p) => p[m])])) as Record<M, number[]>;
}

export { RATIO_METRICS, SWEEP_METRICS };
