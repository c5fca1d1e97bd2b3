/**
 * Genotypes (the DARTS papers' view) and their conversion to and from edge-complete
 * configurations.
 */
import {
  CELL_EDGES,
  CELL_TYPES,
  type CellType,
  type Configuration,
  DEFAULT_CONCAT,
  EDGES_PER_CELL,
  edgeIndex,
  FIRST_NODE,
  LAST_NODE,
} from "./cell.js";
import { type OpIndex, type OpName, opIndex, PRIMITIVES } from "./primitives.js";

/** One op of a genotype: `op` applied to state `from`, summed into node `to`. */
export interface GenotypeOp {
  readonly op: OpName;
  readonly from: number;
  readonly to: number;
}

export interface CellGenotype {
  /** In the genotype's own order: the i-th entry is the reference `_ops.i`. */
  readonly ops: readonly GenotypeOp[];
  readonly concat: readonly number[];
}

/** How the genotype was written, so it can be formatted back the same way. */
export interface GenotypeStyle {
  /** darts: ('op', from) pairs; fair: FairDARTS ('op', to, from); gdas: nested pairs per node; json. */
  readonly format: "darts" | "fair" | "gdas" | "json";
  /** Whether each concat list was written as range(a, b). */
  readonly concatAsRange: { readonly normal: boolean; readonly reduce: boolean };
  /** GDAS's trailing `connectN=None, connects=None` fields, kept for formatting. */
  readonly gdasExtras: boolean;
}

export interface Genotype {
  readonly normal: CellGenotype;
  readonly reduce: CellGenotype;
  readonly style: GenotypeStyle;
}

export const DARTS_STYLE: GenotypeStyle = {
  format: "darts",
  concatAsRange: { normal: false, reduce: false },
  gdasExtras: false,
};

export function genotypeToConfiguration(genotype: Genotype): Configuration {
  const cells = {} as Record<CellType, OpIndex[]>;
  for (const type of CELL_TYPES) {
    const cell = genotype[type];
    const concat = [...cell.concat].sort((a, b) => a - b);
    if (concat.join() !== DEFAULT_CONCAT.join()) {
      throw new Error(
        `${type}_concat ${JSON.stringify(cell.concat)} cannot be expressed as a configuration: the edge-complete view always concatenates nodes 2..5`,
      );
    }
    const ops = new Array<OpIndex>(EDGES_PER_CELL).fill(0);
    for (const { op, from, to } of cell.ops) {
      const e = edgeIndex(from, to);
      if (ops[e] !== 0) {
        throw new Error(
          `${type}: the edge from ${from} to node ${to} carries two ops (${PRIMITIVES[ops[e]!]}, ${op}); a configuration holds one op per edge`,
        );
      }
      ops[e] = opIndex(op);
    }
    cells[type] = ops;
  }
  return { normal: cells.normal, reduce: cells.reduce };
}

/** The genotype a configuration denotes; only when every node has exactly two active inputs. */
export function configurationToGenotype(config: Configuration): Genotype {
  const cells = {} as Record<CellType, CellGenotype>;
  for (const type of CELL_TYPES) {
    const ops: GenotypeOp[] = [];
    for (let to = FIRST_NODE; to <= LAST_NODE; to++) {
      const active = CELL_EDGES.filter((e) => e.to === to && config[type][e.index] !== 0);
      if (active.length !== 2) {
        throw new Error(
          `${type} node ${to} has ${active.length} active inputs; a genotype needs exactly 2 per node, so this configuration is only valid in the edge-complete view`,
        );
      }
      for (const e of active) ops.push({ op: PRIMITIVES[config[type][e.index]!]!, from: e.from, to });
    }
    cells[type] = { ops, concat: [...DEFAULT_CONCAT] };
  }
  return { normal: cells.normal, reduce: cells.reduce, style: DARTS_STYLE };
}

/** Structural equality (ops in order, concat), ignoring formatting style. */
export function sameGenotype(a: Genotype, b: Genotype): boolean {
  return CELL_TYPES.every((t) => JSON.stringify(stripCell(a[t])) === JSON.stringify(stripCell(b[t])));
}

function stripCell(cell: CellGenotype): unknown {
  return { ops: cell.ops.map((o) => [o.op, o.from, o.to]), concat: [...cell.concat] };
}
