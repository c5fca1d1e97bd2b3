/** `memhyper bench engine`. */
import type { Command } from "commander";
import { benchEngine } from "../bench/engine.js";
import { benchSim } from "../bench/sim.js";
import { loadSplit, resolveDataDir, take } from "../data/cifar10.js";
import { loadModelWeights } from "../engine/safetensors.js";
import { makeOut, parseIntOption, table } from "./output.js";

export function registerBench(program: Command): void {
  const bench = program
    .command("bench")
    .description("benchmarks (run nothing else on the machine meanwhile)");
  bench
    .command("engine")
    .description("engine throughput on DARTS_V2 against the PyTorch CPU reference measured in the same run")
    .option("--seconds <s>", "seconds per measurement", parseIntOption("seconds", 1, 600), 8)
    .option(
      "--rounds <n>",
      "rounds per workload, ours then PyTorch's back to back; the median ratio is reported",
      parseIntOption("rounds", 1, 50),
      3,
    )
    .option("--no-reference", "skip the PyTorch reference")
    .option("--json", "print one JSON object")
    .action((o: { seconds: number; rounds: number; reference: boolean; json?: boolean }) => {
      const out = makeOut(!!o.json);
      const r = benchEngine(o.seconds, o.reference, (s) => process.stderr.write(`${s}\n`), o.rounds);
      out.result(r, () => {
        out.line(
          `backend ${r.backend}, ${r.threads ?? 1} threads, BLAS ${r.blas ? "OpenBLAS" : "portable"}; reference: ${r.pytorch}`,
        );
        out.line(
          table(
            [
              "workload",
              "net",
              "batch",
              "memhyper img/s",
              "PyTorch img/s",
              "ratio (median)",
              "rounds' ratios",
              "target",
            ],
            Object.entries(r.workloads).map(([k, w]) => [
              k,
              `DARTS_V2 C=${w.channels} L=${w.layers}`,
              w.batch,
              w.imgPerSec.toFixed(1),
              w.pytorchImgPerSec?.toFixed(1) ?? "—",
              w.ratio ? `${w.ratio.toFixed(2)}×` : "—",
              w.rounds.map((x) => (x.ratio ? x.ratio.toFixed(2) : "—")).join(" "),
              `≥ ${w.target}× ${w.met === null ? "" : w.met ? "met" : "NOT met"}`,
            ]),
          ),
        );
        out.line(
          table(
            ["kernel", "GFLOP/s"],
            Object.entries(r.kernelsGflops).map(([k, v]) => [k, v.toFixed(1)]),
          ),
        );
        out.line(
          `peak resident memory ${r.peakRssMb.toFixed(0)} MB (target < ${r.peakRssTargetMb} MB ${r.peakRssMet ? "met" : "NOT met"})`,
        );
      });
    });

  bench
    .command("sim")
    .description("crossbar simulator cost against the float network, measured in the same run")
    .option("--images <n>", "test images", parseIntOption("images", 1, 10000), 1000)
    .option("--genotype <g>", "network (C=16, 8 cells)", "PDARTS")
    .option("--weights <file>", "trained weights (default: PyTorch-style random initialisation)")
    .option("--data <dir>", "CIFAR-10 binary directory")
    .option("--json", "print one JSON object")
    .action((o: { images: number; genotype: string; weights?: string; data?: string; json?: boolean }) => {
      const out = makeOut(!!o.json);
      const dir = resolveDataDir(o.data);
      const data = { test: take(loadSplit(dir, "test"), o.images), train: loadSplit(dir, "train") };
      const weights = o.weights
        ? (m: Parameters<typeof loadModelWeights>[0]) => loadModelWeights(m, o.weights!)
        : null;
      const r = benchSim(data, o.genotype, weights, (s) => process.stderr.write(`${s}\n`));
      out.result(r, () => {
        out.line(`${r.genotype} C=16 L=8 on ${r.images} test images`);
        out.line(
          table(
            ["configuration", "inference s", "setup s", "× fp32", "target", "accuracy"],
            r.rows.map((w) => [
              w.config,
              w.seconds.toFixed(2),
              w.setupSeconds.toFixed(2),
              `${w.ratio.toFixed(2)}×`,
              w.target === null ? "—" : `≤ ${w.target}× ${w.met ? "met" : "NOT met"}`,
              `${(100 * w.accuracy).toFixed(2)}%`,
            ]),
          ),
        );
      });
    });
}
