/** Formats a genotype back in the form it came in (DARTS pairs, FairDARTS triples, GDAS, JSON). */
import { CELL_TYPES, type CellType, FIRST_NODE } from "./cell.js";
import type { CellGenotype, Genotype } from "./genotype.js";

export function formatGenotype(g: Genotype): string {
  if (g.style.format === "json") {
    const o: Record<string, unknown> = {};
    for (const t of CELL_TYPES) {
      o[t] = g[t].ops.map((x) => [x.op, x.from]);
      o[`${t}_concat`] = g[t].concat;
    }
    return JSON.stringify(o);
  }
  const fields = CELL_TYPES.flatMap((t) => [`${t}=${formatOps(g, t)}`, `${t}_concat=${formatConcat(g, t)}`]);
  if (g.style.gdasExtras) fields.push("connectN=None", "connects=None");
  return `Genotype(${fields.join(", ")})`;
}

function formatOps(g: Genotype, type: CellType): string {
  const cell: CellGenotype = g[type];
  if (g.style.format === "fair")
    return `[${cell.ops.map((o) => `('${o.op}', ${o.to}, ${o.from})`).join(", ")}]`;
  if (g.style.format === "gdas") {
    const nodes: string[] = [];
    for (let to = FIRST_NODE; cell.ops.some((o) => o.to >= to); to++) {
      const pairs = cell.ops.filter((o) => o.to === to).map((o) => `('${o.op}', ${o.from})`);
      nodes.push(`(${pairs.join(", ")}${pairs.length === 1 ? "," : ""})`);
    }
    return `[${nodes.join(", ")}]`;
  }
  return `[${cell.ops.map((o) => `('${o.op}', ${o.from})`).join(", ")}]`;
}

function formatConcat(g: Genotype, type: CellType): string {
  const c = g[type].concat;
  const contiguous = c.every((n, i) => i === 0 || n === c[i - 1]! + 1);
  if (g.style.concatAsRange[type] && contiguous) return `range(${c[0]}, ${c[c.length - 1]! + 1})`;
  return `[${c.join(", ")}]`;
}
