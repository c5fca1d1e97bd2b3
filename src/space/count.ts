/** Exact sizes of both views of the space, derived from the cell structure (BigInt). */
import { CELL_TYPES, EDGES_PER_CELL, FIRST_NODE, INTERMEDIATE_NODES } from "./cell.js";
import { numOps } from "./primitives.js";

/** Genotype view: each node picks 2 distinct predecessors and a non-`none` op for each. */
export function genotypeViewCount(): bigint {
  const nonNone = BigInt(numOps() - 1);
  let perCell = 1n;
  for (let node = FIRST_NODE; node < FIRST_NODE + INTERMEDIATE_NODES; node++) {
    const k = BigInt(node); // number of predecessors
    perCell *= ((k * (k - 1n)) / 2n) * nonNone * nonNone;
  }
  return perCell ** BigInt(CELL_TYPES.length);
}

/** Edge-complete view: each of the 28 edges carries any of the 8 primitives. */
export function edgeCompleteViewCount(): bigint {
  return BigInt(numOps()) ** BigInt(EDGES_PER_CELL * CELL_TYPES.length);
}
