/**
 * Cell topology shared by both views of the space. A cell has inputs 0 (c_{k-2}) and
 * 1 (c_{k-1}) and intermediate nodes 2..5; edges are numbered in DARTS supernet order:
 * node 2 ← 0, 1; node 3 ← 0, 1, 2; node 4 ← 0..3; node 5 ← 0..4 (edges 0..13).
 */
import { numOps, type OpIndex } from "./primitives.js";

export const CELL_INPUTS = 2;
export const INTERMEDIATE_NODES = 4;
export const FIRST_NODE = CELL_INPUTS;
export const LAST_NODE = CELL_INPUTS + INTERMEDIATE_NODES - 1;
export const DEFAULT_CONCAT: readonly number[] = [2, 3, 4, 5];

export interface CellEdge {
  readonly index: number;
  readonly from: number;
  readonly to: number;
}

export const CELL_EDGES: readonly CellEdge[] = (() => {
  const edges: CellEdge[] = [];
  for (let to = FIRST_NODE; to <= LAST_NODE; to++) {
    for (let from = 0; from < to; from++) edges.push({ index: edges.length, from, to });
  }
  return edges;
})();

export const EDGES_PER_CELL = CELL_EDGES.length; // 14
export const CELL_TYPES = ["normal", "reduce"] as const;
export type CellType = (typeof CELL_TYPES)[number];

export function edgeIndex(from: number, to: number): number {
  if (!Number.isInteger(to) || to < FIRST_NODE || to > LAST_NODE) throw new Error(`no node ${to} in a cell`);
  if (!Number.isInteger(from) || from < 0 || from >= to)
    throw new Error(`no edge from ${from} to node ${to}`);
  return (to * (to - 1)) / 2 - 1 + from;
}

/**
 * An edge-complete cell configuration: for each cell type, one op index per edge
 * (0 = none); src/space/code.ts writes the 28 choices as the configuration code.
 */
export interface Configuration {
  readonly normal: readonly OpIndex[];
  readonly reduce: readonly OpIndex[];
}

export function validateConfiguration(config: Configuration): void {
  for (const type of CELL_TYPES) {
    const ops = config[type];
    if (!Array.isArray(ops) || ops.length !== EDGES_PER_CELL) {
      throw new Error(`configuration.${type}: expected ${EDGES_PER_CELL} op indices, got ${ops?.length}`);
    }
    ops.forEach((op, e) => {
      if (!Number.isInteger(op) || op < 0 || op >= numOps()) {
        throw new Error(`configuration.${type}[${e}]: op index must be 0..${numOps() - 1}, got ${op}`);
      }
    });
  }
}
