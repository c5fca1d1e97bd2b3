/**
 * The one op table of the DARTS search space. Every layer of memhyper (IR, engine,
 * crossbar mapper, hardware designs, cost model) looks primitives up here, by name or
 * by index, so no second list can drift from this one.
 *
 * Order and names are DARTS `PRIMITIVES` (quark0/darts cnn/genotypes.py); the index is
 * the 3-bit value stored in configuration codes.
 */
export const PRIMITIVES = [
  "none",
  "max_pool_3x3",
  "avg_pool_3x3",
  "skip_connect",
  "sep_conv_3x3",
  "sep_conv_5x5",
  "dil_conv_3x3",
  "dil_conv_5x5",
] as const;

export type OpName = (typeof PRIMITIVES)[number];
export type OpIndex = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

export type OpFamily = "none" | "pool" | "skip" | "sep_conv" | "dil_conv";

export interface OpSpec {
  readonly name: OpName;
  readonly index: OpIndex;
  readonly family: OpFamily;
  /** Kernel size of the convolution or pooling window (0 for none/skip). */
  readonly kernel: number;
  readonly dilation: number;
  /** Padding of the (first) spatial convolution / pooling window. */
  readonly padding: number;
  readonly pool?: "max" | "avg";
}

export const OP_SPECS: readonly OpSpec[] = [
  { name: "none", index: 0, family: "none", kernel: 0, dilation: 1, padding: 0 },
  { name: "max_pool_3x3", index: 1, family: "pool", kernel: 3, dilation: 1, padding: 1, pool: "max" },
  { name: "avg_pool_3x3", index: 2, family: "pool", kernel: 3, dilation: 1, padding: 1, pool: "avg" },
  { name: "skip_connect", index: 3, family: "skip", kernel: 0, dilation: 1, padding: 0 },
  { name: "sep_conv_3x3", index: 4, family: "sep_conv", kernel: 3, dilation: 1, padding: 1 },
  { name: "sep_conv_5x5", index: 5, family: "sep_conv", kernel: 5, dilation: 1, padding: 2 },
  { name: "dil_conv_3x3", index: 6, family: "dil_conv", kernel: 3, dilation: 2, padding: 2 },
  { name: "dil_conv_5x5", index: 7, family: "dil_conv", kernel: 5, dilation: 2, padding: 4 },
];

export const NUM_OPS = PRIMITIVES.length;

const BY_NAME = new Map<string, OpSpec>(OP_SPECS.map((s) => [s.name, s]));

export function isOpName(name: string): name is OpName {
  return BY_NAME.has(name);
}

export function opSpec(op: OpName | OpIndex): OpSpec {
  const spec = typeof op === "number" ? OP_SPECS[op] : BY_NAME.get(op);
  if (!spec) throw new Error(`unknown op ${JSON.stringify(op)}; valid ops: ${PRIMITIVES.join(", ")}`);
  return spec;
}

export function opIndex(name: OpName): OpIndex {
  return opSpec(name).index;
}

/** The valid op name closest to `name` (edit distance), for "did you mean" messages. */
export function closestOpName(name: string): OpName {
  let best: OpName = PRIMITIVES[0];
  let bestDist = Number.POSITIVE_INFINITY;
  for (const candidate of PRIMITIVES) {
    const d = editDistance(name.toLowerCase(), candidate);
    if (d < bestDist) {
      bestDist = d;
      best = candidate;
    }
  }
  return best;
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
