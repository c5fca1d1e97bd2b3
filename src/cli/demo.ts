/** `memhyper demo`: the whole story on an embedded default. */
import type { Command } from "commander";
import { countMacs, countParams } from "../ir/count.js";
import { buildNetwork } from "../ir/network.js";
import { resolveArchitecture } from "../space/architecture.js";
import { edgeCompleteViewCount, genotypeViewCount } from "../space/count.js";
import { fmtInt, makeOut, table } from "./output.js";

export const DEMO_ARCHITECTURES = ["DARTS_V1", "DARTS_V2", "PDARTS"] as const;

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("the search space and the reference networks DARTS_V1, DARTS_V2, PDARTS")
    .option("--json", "print one JSON object")
    .action((opts: { json?: boolean }) => {
      const out = makeOut(!!opts.json);
      const space = {
        genotypeView: genotypeViewCount().toString(),
        edgeCompleteView: edgeCompleteViewCount().toString(),
      };
      const networks = DEMO_ARCHITECTURES.flatMap((name) =>
        [
          [16, 8],
          [36, 20],
        ].map(([channels, layers]) => {
          const arch = resolveArchitecture(name);
          const net = buildNetwork(arch, { channels: channels!, layers: layers! });
          return {
            genotype: name,
            code: arch.code,
            channels,
            layers,
            params: countParams(net),
            macs: countMacs(net),
          };
        }),
      );
      out.result({ space, networks }, () => {
        out.line("memhyper — DARTS search space on memristive crossbars\n");
        out.line(`genotype view:      ${fmtInt(BigInt(space.genotypeView))} architectures`);
        out.line(
          `edge-complete view: ${fmtInt(BigInt(space.edgeCompleteView))} architectures (8^28, the hypernetwork's)\n`,
        );
        out.line(
          table(
            ["genotype", "code", "C", "cells", "params", "MACs"],
            networks.map((n) => [
              n.genotype,
              n.code ?? "",
              n.channels!,
              n.layers!,
              fmtInt(n.params),
              fmtInt(n.macs),
            ]),
          ),
        );
      });
    });
}
