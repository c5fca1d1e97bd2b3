/** `memhyper space ...`: the search space, its genotypes and configuration codes. */
import type { Command } from "commander";
import { type Architecture, architectureFromGenotype, resolveArchitecture } from "../space/architecture.js";
import { CATALOGUE, catalogueGenotype } from "../space/catalogue.js";
import { CELL_EDGES, CELL_TYPES } from "../space/cell.js";
import { encodeConfiguration } from "../space/code.js";
import { edgeCompleteViewCount, genotypeViewCount } from "../space/count.js";
import { formatGenotype } from "../space/format.js";
import { genotypeToConfiguration } from "../space/genotype.js";
import { PRIMITIVES } from "../space/primitives.js";
import { sampleConfiguration, sampleGenotype } from "../space/sample.js";
import { Rng } from "../util/rng.js";
import { fmtInt, makeOut, parseIntOption, table, UsageError } from "./output.js";

export function registerSpace(program: Command): void {
  const space = program
    .command("space")
    .description("the DARTS search space: counts, catalogue, genotypes, codes, sampling");

  space
    .command("count")
    .description("exact number of architectures in the genotype and edge-complete views")
    .option("--json", "print one JSON object")
    .action((opts: { json?: boolean }) => {
      const out = makeOut(!!opts.json);
      const g = genotypeViewCount();
      const e = edgeCompleteViewCount();
      out.result({ genotypeView: g.toString(), edgeCompleteView: e.toString() }, () => {
        out.line(
          table(
            ["view", "architectures", "≈"],
            [
              ["genotype (2 inputs per node, 7 ops)", fmtInt(g), Number(g).toExponential(3)],
              ["edge-complete (14 edges × 8 ops per cell)", fmtInt(e), Number(e).toExponential(3)],
            ],
          ),
        );
      });
    });

  space
    .command("list")
    .description("the catalogue of named genotypes")
    .option("--json", "print one JSON object")
    .action((opts: { json?: boolean }) => {
      const out = makeOut(!!opts.json);
      const rows = CATALOGUE.map((e) => {
        const arch = architectureFromGenotype(e.name, catalogueGenotype(e.name));
        return { name: e.name, aliases: e.aliases, code: arch.code, source: e.source };
      });
      out.result({ genotypes: rows }, () => {
        out.line(
          table(
            ["name", "aliases", "code", "source"],
            rows.map((r) => [r.name, r.aliases.join(", "), r.code ?? "—", r.source]),
          ),
        );
      });
    });

  space
    .command("show")
    .argument("<architecture>", "catalogue name, Genotype(...) string, 21-hex-digit code, or file")
    .description("an architecture: genotype, configuration code, per-node inputs and ops")
    .option("--json", "print one JSON object")
    .action((spec: string, opts: { json?: boolean }) => {
      const out = makeOut(!!opts.json);
      const arch = resolveArchitecture(spec);
      out.result(describeArchitecture(arch), () => printArchitecture(arch, out.line));
    });

  space
    .command("sample")
    .description("seeded uniform samples from the genotype or edge-complete view")
    .option("--view <view>", "genotype | edge", "genotype")
    .requiredOption("--seed <n>", "random seed", parseIntOption("seed", 0, 2 ** 32 - 1))
    .option("--count <k>", "how many", parseIntOption("count", 1, 1_000_000), 1)
    .option("--json", "print one JSON object")
    .action((opts: { view: string; seed: number; count: number; json?: boolean }) => {
      if (opts.view !== "genotype" && opts.view !== "edge")
        throw new UsageError(`--view must be 'genotype' or 'edge', got '${opts.view}'`);
      const out = makeOut(!!opts.json);
      const rng = new Rng(opts.seed);
      const samples = Array.from({ length: opts.count }, () => {
        if (opts.view === "genotype") {
          const g = sampleGenotype(rng);
          return { code: encodeConfiguration(genotypeToConfiguration(g)), genotype: formatGenotype(g) };
        }
        const code = encodeConfiguration(sampleConfiguration(rng));
        return { code, genotype: null as string | null };
      });
      out.result({ view: opts.view, seed: opts.seed, samples }, () => {
        for (const s of samples) out.line(s.genotype ? `${s.code}  ${s.genotype}` : s.code);
      });
    });
}

export function describeArchitecture(arch: Architecture): Record<string, unknown> {
  const cells: Record<string, unknown> = {};
  for (const type of CELL_TYPES) {
    const nodes = [2, 3, 4, 5].map((node) => {
      const inputs = arch.genotype
        ? arch.genotype[type].ops.filter((o) => o.to === node).map((o) => ({ from: o.from, op: o.op }))
        : CELL_EDGES.filter((e) => e.to === node && arch.configuration![type][e.index] !== 0).map((e) => ({
            from: e.from,
            op: PRIMITIVES[arch.configuration![type][e.index]!]!,
          }));
      return { node, inputs };
    });
    cells[type] = { nodes, concat: arch.genotype ? arch.genotype[type].concat : [2, 3, 4, 5] };
  }
  return {
    label: arch.label,
    code: arch.code,
    genotype: arch.genotype ? formatGenotype(arch.genotype) : null,
    configuration: arch.configuration
      ? Object.fromEntries(CELL_TYPES.map((t) => [t, arch.configuration![t].map((i) => PRIMITIVES[i])]))
      : null,
    cells,
  };
}

function printArchitecture(arch: Architecture, line: (t?: string) => void): void {
  const d = describeArchitecture(arch) as {
    cells: Record<
      string,
      { nodes: { node: number; inputs: { from: number; op: string }[] }[]; concat: number[] }
    >;
  };
  line(`architecture: ${arch.label}`);
  line(`code:         ${arch.code ?? "(not expressible as a configuration)"}`);
  if (arch.genotype) line(`genotype:     ${formatGenotype(arch.genotype)}`);
  for (const type of CELL_TYPES) {
    const cell = d.cells[type]!;
    line();
    line(`${type} cell (concat ${cell.concat.join(", ")})`);
    line(
      table(
        ["node", "inputs (state ← op)"],
        cell.nodes.map((n) => [
          n.node,
          n.inputs.map((i) => `${i.from} ← ${i.op}`).join("; ") || "(none: zeros)",
        ]),
      ),
    );
  }
}
