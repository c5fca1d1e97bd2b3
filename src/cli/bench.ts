/** `memhyper bench engine`. */
import type { Command } from "commander";
import { benchEngine } from "../bench/engine.js";
import { makeOut, parseIntOption, table } from "./output.js";

export function registerBench(program: Command): void {
  const bench = program
    .command("bench")
    .description("benchmarks (run nothing else on the machine meanwhile)");
  bench
    .command("engine")
    .description("engine throughput on DARTS_V2 against the PyTorch CPU reference measured in the same run")
    .option("--seconds <s>", "seconds per measurement", parseIntOption("seconds", 1, 600), 8)
    .option("--no-reference", "skip the PyTorch reference")
    .option("--json", "print one JSON object")
    .action((o: { seconds: number; reference: boolean; json?: boolean }) => {
      const out = makeOut(!!o.json);
      const r = benchEngine(o.seconds, o.reference, (s) => process.stderr.write(`${s}\n`));
      out.result(r, () => {
        out.line(
          `backend ${r.backend}, ${r.threads ?? 1} threads, BLAS ${r.blas ? "OpenBLAS" : "portable"}; reference: ${r.pytorch}`,
        );
        out.line(
          table(
            ["workload", "net", "batch", "memhyper img/s", "PyTorch img/s", "ratio", "target"],
            Object.entries(r.workloads).map(([k, w]) => [
              k,
              `DARTS_V2 C=${w.channels} L=${w.layers}`,
              w.batch,
              w.imgPerSec.toFixed(1),
              w.pytorchImgPerSec?.toFixed(1) ?? "—",
              w.ratio ? `${w.ratio.toFixed(2)}×` : "—",
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
        out.line(`peak resident memory ${r.peakRssMb.toFixed(0)} MB`);
      });
    });
}
