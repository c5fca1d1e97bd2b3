/** Seeded uniform sampling in both views of the space. */
import type { Rng } from "../util/rng.js";
import {
  CELL_TYPES,
  type CellType,
  type Configuration,
  DEFAULT_CONCAT,
  EDGES_PER_CELL,
  FIRST_NODE,
  LAST_NODE,
} from "./cell.js";
import { type CellGenotype, DARTS_STYLE, type Genotype, type GenotypeOp } from "./genotype.js";
import { numOps, type OpIndex, PRIMITIVES } from "./primitives.js";

export type SpaceView = "genotype" | "edge";

/** Uniform over genotypes: each node an unordered pair of distinct inputs, each with one of the 7 non-none ops. */
export function sampleGenotype(rng: Rng): Genotype {
  const cells = {} as Record<CellType, CellGenotype>;
  for (const type of CELL_TYPES) {
    const ops: GenotypeOp[] = [];
    for (let to = FIRST_NODE; to <= LAST_NODE; to++) {
      const pair = rng.int((to * (to - 1)) / 2);
      // Unrank the pair index into (a < b).
      let b = 1;
      while ((b * (b + 1)) / 2 <= pair) b++;
      const a = pair - (b * (b - 1)) / 2;
      for (const from of [a, b]) ops.push({ op: PRIMITIVES[1 + rng.int(numOps() - 1)]!, from, to });
    }
    cells[type] = { ops, concat: [...DEFAULT_CONCAT] };
  }
  return { normal: cells.normal, reduce: cells.reduce, style: DARTS_STYLE };
}

/** Uniform over configurations: each of the 28 edges uniform over the 8 primitives. */
export function sampleConfiguration(rng: Rng): Configuration {
  const cell = (): OpIndex[] => Array.from({ length: EDGES_PER_CELL }, () => rng.int(numOps()) as OpIndex);
  const normal = cell();
  return { normal, reduce: cell() };
}
