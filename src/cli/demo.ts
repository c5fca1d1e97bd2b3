/** `memhyper demo`: the whole story on an embedded default. */
import type { Command } from "commander";
import { costNetwork } from "../hw/cost.js";
import { DEFAULT_DEPLOYMENT } from "../hw/deployment.js";
import { loadTech } from "../hw/tech.js";
import { countMacs, countParams } from "../ir/count.js";
import { buildNetwork } from "../ir/network.js";
import { resolveArchitecture } from "../space/architecture.js";
import { edgeCompleteViewCount, genotypeViewCount } from "../space/count.js";
import { fmtInt, makeOut, table } from "./output.js";

export const DEMO_ARCHITECTURES = ["DARTS_V1", "DARTS_V2", "PDARTS"] as const;
const DEMO_SIZES = [
  [16, 8],
  [36, 20],
] as const;

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("the search space, and DARTS_V1, DARTS_V2, PDARTS with their crossbar hardware cost")
    .option("--json", "print one JSON object")
    .action((opts: { json?: boolean }) => {
      const out = makeOut(!!opts.json);
      const { file, tech } = loadTech();
      const space = {
        genotypeView: genotypeViewCount().toString(),
        edgeCompleteView: edgeCompleteViewCount().toString(),
      };
      const networks = DEMO_ARCHITECTURES.flatMap((name) =>
        DEMO_SIZES.map(([channels, layers]) => {
          const arch = resolveArchitecture(name);
          const net = buildNetwork(arch, { channels, layers });
          const cost = costNetwork(net, tech, DEFAULT_DEPLOYMENT);
          return {
            genotype: name,
            code: arch.code,
            channels,
            layers,
            params: countParams(net),
            macs: countMacs(net),
            hardware: {
              areaMm2: cost.areaMm2,
              energyUj: cost.energyUj,
              latencyUs: cost.latencyUs,
              powerMw: cost.powerMw,
              arrays: cost.arrays,
            },
          };
        }),
      );
      out.result({ space, tech: file.name, deployment: DEFAULT_DEPLOYMENT, networks }, () => {
        out.line("memhyper — DARTS search space on memristive crossbars\n");
        out.line(`genotype view:      ${fmtInt(BigInt(space.genotypeView))} architectures`);
        out.line(
          `edge-complete view: ${fmtInt(BigInt(space.edgeCompleteView))} architectures (8^28, the hypernetwork's)\n`,
        );
        out.line(
          table(
            [
              "genotype",
              "code",
              "C",
              "cells",
              "params",
              "MACs",
              "area mm²",
              "energy µJ/img",
              "latency ms",
              "power mW",
              "arrays",
            ],
            networks.map((n) => [
              n.genotype,
              n.code ?? "",
              n.channels,
              n.layers,
              fmtInt(n.params),
              fmtInt(n.macs),
              n.hardware.areaMm2.toFixed(2),
              n.hardware.energyUj.toFixed(1),
              (n.hardware.latencyUs / 1000).toFixed(2),
              n.hardware.powerMw.toFixed(2),
              n.hardware.arrays,
            ]),
          ),
        );
        out.line(
          `\nIndividual deployment on ${file.name}: 128×128 RRAM crossbars, 8-bit bit-serial inputs, 8-bit weights`,
        );
        out.line(
          "in two 4-bit differential slices, 8-bit SAR ADCs shared by 8 columns ('memhyper hw report --help').",
        );
      });
    });
}
