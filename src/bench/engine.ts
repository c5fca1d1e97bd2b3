/**
 * `memhyper bench engine`: throughput of the engine on the reference workloads, with the
 * PyTorch CPU reference (bench/torch_ref.py, Debian python3-torch) timed in the same run
 * and reported as ratios. Nothing else should run on the machine meanwhile.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Arena, withArena } from "../engine/arena.js";
import { kernels, nativeKernels } from "../engine/kernels/index.js";
import { Model } from "../engine/model.js";
import * as ops from "../engine/ops.js";
import { Sgd } from "../engine/optim.js";
import { Tape } from "../engine/tape.js";
import { Tensor } from "../engine/tensor.js";
import { buildNetwork } from "../ir/network.js";
import { resolveArchitecture } from "../space/architecture.js";
import { Rng } from "../util/rng.js";
import { summarise } from "../util/stats.js";

export interface Workload {
  readonly key: "inference" | "training" | "inferenceLarge";
  readonly genotype: string;
  readonly channels: number;
  readonly layers: number;
  readonly batch: number;
  readonly mode: "inference" | "training";
  /** Ratio to PyTorch the issue asks for. */
  readonly target: number;
}

export const WORKLOADS: readonly Workload[] = [
  {
    key: "inference",
    genotype: "DARTS_V2",
    channels: 16,
    layers: 8,
    batch: 64,
    mode: "inference",
    target: 2.5,
  },
  { key: "training", genotype: "DARTS_V2", channels: 16, layers: 8, batch: 64, mode: "training", target: 2 },
  {
    key: "inferenceLarge",
    genotype: "DARTS_V2",
    channels: 36,
    layers: 20,
    batch: 32,
    mode: "inference",
    target: 2,
  },
];

/**
 * The training step both engines time: the DARTS recipe's (its train.py), drop-path on every
 * non-identity edge and the auxiliary head's loss, as `memhyper train` runs it.
 */
export const TRAINING_STEP = { dropPath: 0.1, auxWeight: 0.4 } as const;

/** One round: our engine timed, then PyTorch on the same workload right after it. */
export interface BenchRound {
  imgPerSec: number;
  pytorchImgPerSec: number | null;
  ratio: number | null;
}

export interface WorkloadResult {
  /** Medians over the rounds; the ratio is the median of the rounds' own ratios. */
  imgPerSec: number;
  steps: number;
  seconds: number;
  rounds: BenchRound[];
  batch: number;
  channels: number;
  layers: number;
  pytorchImgPerSec: number | null;
  ratio: number | null;
  target: number;
  met: boolean | null;
}

function randomInput(n: number, seed: number): Tensor {
  const rng = new Rng(seed);
  const x = Tensor.zeros([n, 3, 32, 32]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  return x;
}

/** Runs `step` once to warm up, then repeatedly for at least `seconds`. */
function timeSteps(step: () => void, seconds: number): { steps: number; seconds: number } {
  step();
  const t0 = performance.now();
  let steps = 0;
  while (steps === 0 || performance.now() - t0 < seconds * 1000) {
    step();
    steps++;
  }
  return { steps, seconds: (performance.now() - t0) / 1000 };
}

export function measureWorkload(
  w: Workload,
  seconds: number,
  step = makeStep(w),
): { imgPerSec: number; steps: number; seconds: number } {
  const t = timeSteps(step, seconds);
  return { imgPerSec: (t.steps * w.batch) / t.seconds, ...t };
}

/** One step of a workload (a forward, or a training step with SGD), ready to time. */
export function makeStep(w: Workload): () => void {
  const net = buildNetwork(resolveArchitecture(w.genotype), {
    channels: w.channels,
    layers: w.layers,
    auxiliary: w.mode === "training",
  });
  const model = new Model(net, 1);
  const x = randomInput(w.batch, 2);
  let step: () => void;
  if (w.mode === "inference") {
    step = () => {
      model.forward(x, { training: false });
    };
  } else {
    const labels = Int32Array.from({ length: w.batch }, (_, i) => i % 10);
    const sgd = new Sgd(model.parameters(), { momentum: 0.9, weightDecay: 3e-4, nesterov: false });
    const arena = new Arena();
    const rng = new Rng(3);
    step = () => {
      withArena(arena, () => {
        const tape = new Tape();
        const out = model.forward(x, { training: true, tape, dropPathProb: TRAINING_STEP.dropPath, rng });
        const loss = ops.add(tape, [
          ops.crossEntropy(tape, out.logits, labels),
          ops.crossEntropy(tape, out.auxLogits!, labels, TRAINING_STEP.auxWeight),
        ]);
        tape.backward(loss);
      });
      arena.reset();
      sgd.step(0.025);
      sgd.zeroGrad();
    };
  }
  return step;
}

const TORCH_SCRIPT = fileURLToPath(new URL("../../bench/torch_ref.py", import.meta.url));
const PYTHON = "/usr/bin/python3";

/** PyTorch reference throughput, or the reason it is absent. */
export function measurePytorch(
  w: Workload,
  seconds: number,
  threads: number,
): { imgPerSec: number; torch: string } | { absent: string } {
  if (!existsSync(PYTHON) || !existsSync(TORCH_SCRIPT))
    return { absent: `${PYTHON} or ${TORCH_SCRIPT} not found` };
  const g = resolveArchitecture(w.genotype).genotype!;
  const cfg = {
    normal: g.normal.ops.map((o) => [o.op, o.from]),
    reduce: g.reduce.ops.map((o) => [o.op, o.from]),
    channels: w.channels,
    layers: w.layers,
    batch: w.batch,
    mode: w.mode,
    seconds,
    threads,
    ...(w.mode === "training" ? TRAINING_STEP : {}),
  };
  const r = spawnSync(PYTHON, [TORCH_SCRIPT, JSON.stringify(cfg)], { encoding: "utf8" });
  if (r.status !== 0) {
    const why = /No module named 'torch'/.test(r.stderr)
      ? "Debian's python3-torch is not installed (apt-get install python3-torch)"
      : r.stderr.trim().split("\n").pop();
    return { absent: why ?? "the PyTorch reference failed" };
  }
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** GFLOP/s of the hot kernels on shapes typical of the C=16 network at batch 64. */
export function kernelThroughput(seconds: number): Record<string, number> {
  const k = kernels();
  const rng = new Rng(5);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const out: Record<string, number> = {};
  const rate = (flops: number, fn: () => void) => {
    const t = timeSteps(fn, seconds);
    return (flops * t.steps) / t.seconds / 1e9;
  };
  const n = 64;
  const x = rand(n * 16 * 32 * 32);
  const y = new Float32Array(x.length);
  const dx = new Float32Array(x.length);
  const pw = { n, c: 16, h: 32, w: 32, oc: 16, k: 1, stride: 1, pad: 0, dil: 1, groups: 1, oh: 32, ow: 32 };
  const dw = { ...pw, k: 3, pad: 1, groups: 16 };
  const w1 = rand(16 * 16);
  const w3 = rand(16 * 9);
  out.gemm512 = rate(2 * 512 ** 3, () =>
    k.gemm(false, false, 512, 512, 512, 1, rand0(512 * 512), rand0(512 * 512), 0, c512),
  );
  out.pointwiseForward = rate(2 * n * 16 * 16 * 1024, () => k.convForward(pw, x, w1, y, false));
  out.pointwiseBackward = rate(4 * n * 16 * 16 * 1024, () =>
    k.convBackward(pw, x, w1, y, dx, new Float32Array(256), false),
  );
  out.depthwise3x3Forward = rate(2 * n * 16 * 9 * 1024, () => k.convForward(dw, x, w3, y, true));
  out.depthwise3x3Backward = rate(4 * n * 16 * 9 * 1024, () =>
    k.convBackward(dw, x, w3, y, dx, new Float32Array(144), true),
  );
  return out;
}
const shared512 = new Float32Array(512 * 512).fill(0.5);
const rand0 = (_: number) => shared512;
const c512 = new Float32Array(512 * 512);

const PEAK_RSS_TARGET_MB = 2048;

export interface EngineBench {
  backend: string;
  threads: number | null;
  blas: boolean | null;
  pytorch: string;
  workloads: Record<string, WorkloadResult>;
  kernelsGflops: Record<string, number>;
  peakRssMb: number;
  /** The memory target: the whole benchmark, training C=16 L=8 batch 64 included, under 2 GiB. */
  peakRssTargetMb: number;
  peakRssMet: boolean;
}

/**
 * Each workload is timed in `rounds` rounds, ours then PyTorch's back to back, and the ratio
 * reported is the median of the rounds' ratios: on a shared machine whose speed drifts by
 * tens of per cent within minutes, a pair measured together is comparable, a single pair
 * is luck.
 */
export function benchEngine(
  seconds: number,
  withReference: boolean,
  log: (s: string) => void,
  roundCount = 3,
): EngineBench {
  const native = nativeKernels();
  const info = native?.info() ?? null;
  const threads = info?.threads ?? 1;
  const workloads: Record<string, WorkloadResult> = {};
  let pytorch = "not measured (--no-reference)";
  // Once the reference is found absent it is not looked for again.
  let reference = withReference;
  const median = (xs: number[]) => summarise(xs).median;
  for (const w of WORKLOADS) {
    log(
      `measuring ${w.key}: ${w.genotype} C=${w.channels} L=${w.layers} batch ${w.batch}, ${roundCount} rounds`,
    );
    const step = makeStep(w);
    const rounds: BenchRound[] = [];
    let steps = 0;
    let spent = 0;
    for (let i = 0; i < roundCount; i++) {
      const ours = measureWorkload(w, seconds, step);
      steps += ours.steps;
      spent += ours.seconds;
      let ref: number | null = null;
      if (reference) {
        const r = measurePytorch(w, seconds, threads);
        if ("absent" in r) {
          pytorch = `absent: ${r.absent}`;
          reference = false;
        } else {
          ref = r.imgPerSec;
          pytorch = `PyTorch ${r.torch}, ${threads} threads, measured in this run`;
        }
      }
      rounds.push({
        imgPerSec: ours.imgPerSec,
        pytorchImgPerSec: ref,
        ratio: ref ? ours.imgPerSec / ref : null,
      });
    }
    const refs = rounds.flatMap((r) => (r.pytorchImgPerSec === null ? [] : [r.pytorchImgPerSec]));
    const ratios = rounds.flatMap((r) => (r.ratio === null ? [] : [r.ratio]));
    const ratio = ratios.length > 0 ? median(ratios) : null;
    const ref = refs.length > 0 ? median(refs) : null;
    workloads[w.key] = {
      imgPerSec: median(rounds.map((r) => r.imgPerSec)),
      steps,
      seconds: spent,
      rounds,
      batch: w.batch,
      channels: w.channels,
      layers: w.layers,
      pytorchImgPerSec: ref,
      ratio,
      target: w.target,
      met: ratio === null ? null : ratio >= w.target,
    };
  }
  log("measuring kernels");
  const kernelsGflops = kernelThroughput(Math.min(1, seconds));
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  return {
    backend: kernels().name,
    threads: info?.threads ?? null,
    blas: info?.blas ?? null,
    pytorch,
    workloads,
    kernelsGflops,
    peakRssMb,
    peakRssTargetMb: PEAK_RSS_TARGET_MB,
    peakRssMet: peakRssMb < PEAK_RSS_TARGET_MB,
  };
}
