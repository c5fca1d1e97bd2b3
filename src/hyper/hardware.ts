/**
 * The all-inclusive hypernetwork's hardware for C channels and L cells: what sits at every
 * cell position, before any configuration.
 *
 * Every cell position has op *slots*. A slot holds a universal unit (two stages of a 25-tap
 * depthwise array and a pointwise array; 3×3 kernels use the centre 9 rows, dilation comes
 * from the input address generator, dil_conv bypasses the second stage), a pool unit
 * (max or average), an identity path and, where the slot can be strided, a FactorizedReduce
 * unit, and an output MUX over those units.
 *  - edge variant: one slot per edge of the cell (14), wired to the edge's source;
 *    covers the edge-complete space (8^28 configurations).
 *  - node variant: two slots per intermediate node, each with an input MUX over the node's
 *    predecessors; covers the genotype view.
 */
import { CELL_EDGES, FIRST_NODE, LAST_NODE } from "../space/cell.js";

export const VARIANTS = ["edge", "node"] as const;
export type Variant = (typeof VARIANTS)[number];

export interface HyperSpec {
  readonly channels: number;
  readonly layers: number;
  readonly variant: Variant;
}

/** Units a slot may hold; the output MUX selects one of them. */
export const UNITS = ["universal", "pool", "identity", "fr"] as const;
export type UnitName = (typeof UNITS)[number];

export interface Slot {
  /** Parameter and switch prefix, e.g. `cells.3.slots.5`. */
  readonly path: string;
  readonly cell: number;
  readonly index: number;
  /** Intermediate node (2..5) its output is summed into. */
  readonly node: number;
  /** Cell states its input can come from: one fixed wire (edge variant) or an input MUX. */
  readonly sources: readonly number[];
  /** The edge index it realises (edge variant only). */
  readonly edge: number | null;
  /** Units present: a FactorizedReduce unit only where a source arrives strided. */
  readonly units: readonly UnitName[];
}

export interface CellHardware {
  readonly index: number;
  readonly reduction: boolean;
  readonly slots: readonly Slot[];
}

export interface HyperHardware {
  readonly spec: HyperSpec;
  readonly reductions: readonly number[];
  readonly cells: readonly CellHardware[];
}

/** Slots per intermediate node in the node variant (a genotype node has two inputs). */
export const SLOTS_PER_NODE_SLOT_VARIANT = 2;

/** Ops on edges from the cell inputs 0 and 1 of a reduction cell are strided. */
export function isStrided(reduction: boolean, from: number): boolean {
  return reduction && from < 2;
}

export function hyperHardware(spec: HyperSpec): HyperHardware {
  if (!(VARIANTS as readonly string[]).includes(spec.variant))
    throw new Error(`--variant must be one of ${VARIANTS.join(", ")}, got '${spec.variant}'`);
  const { layers } = spec;
  const reductions = [Math.floor(layers / 3), Math.floor((2 * layers) / 3)];
  const cells: CellHardware[] = [];
  for (let k = 0; k < layers; k++) {
    const reduction = reductions.includes(k);
    const slots: Slot[] = [];
    const add = (node: number, sources: number[], edge: number | null): void => {
      const strided = sources.map((s) => isStrided(reduction, s));
      const units: UnitName[] = ["universal", "pool"];
      if (strided.some((s) => !s)) units.push("identity");
      if (strided.some((s) => s)) units.push("fr");
      const index = slots.length;
      slots.push({ path: `cells.${k}.slots.${index}`, cell: k, index, node, sources, edge, units });
    };
    if (spec.variant === "edge") for (const e of CELL_EDGES) add(e.to, [e.from], e.index);
    else
      for (let node = FIRST_NODE; node <= LAST_NODE; node++)
        for (let j = 0; j < SLOTS_PER_NODE_SLOT_VARIANT; j++)
          add(
            node,
            Array.from({ length: node }, (_, i) => i),
            null,
          );
    cells.push({ index: k, reduction, slots });
  }
  return { spec, reductions, cells };
}
