/**
 * The one op registry of the search space. Every layer of memhyper (IR, engine, crossbar
 * mapper, hardware designs, cost model, hypernetwork) looks primitives up here, by name or by
 * index, so no second list can drift from this one.
 *
 * The first eight are DARTS `PRIMITIVES` (quark0/darts cnn/genotypes.py), in its order. An
 * op's family selects its IR builder and parameter layout (src/ir/network.ts) and its unit in
 * the hypernetwork (src/hyper/compiler.ts), so a primitive of an existing family is one
 * `registerOp` call: it gets the next index, and the configuration code widens to
 * ⌈log2 ops⌉ bits per edge (src/space/code.ts).
 */
export type OpName = string;
/** An op's index: its value in configurations and codes (0 is `none`). */
export type OpIndex = number;

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

const SPECS: OpSpec[] = [
  { name: "none", index: 0, family: "none", kernel: 0, dilation: 1, padding: 0 },
  { name: "max_pool_3x3", index: 1, family: "pool", kernel: 3, dilation: 1, padding: 1, pool: "max" },
  { name: "avg_pool_3x3", index: 2, family: "pool", kernel: 3, dilation: 1, padding: 1, pool: "avg" },
  { name: "skip_connect", index: 3, family: "skip", kernel: 0, dilation: 1, padding: 0 },
  { name: "sep_conv_3x3", index: 4, family: "sep_conv", kernel: 3, dilation: 1, padding: 1 },
  { name: "sep_conv_5x5", index: 5, family: "sep_conv", kernel: 5, dilation: 1, padding: 2 },
  { name: "dil_conv_3x3", index: 6, family: "dil_conv", kernel: 3, dilation: 2, padding: 2 },
  { name: "dil_conv_5x5", index: 7, family: "dil_conv", kernel: 5, dilation: 2, padding: 4 },
];
const NAMES: string[] = SPECS.map((s) => s.name);

/** Every op, by index (a live view: registered ops appear in it). */
export const OP_SPECS: readonly OpSpec[] = SPECS;
/** Every op name, by index (a live view). */
export const PRIMITIVES: readonly OpName[] = NAMES;

/** The number of ops (8 for the DARTS space). */
export function numOps(): number {
  return SPECS.length;
}

const BY_NAME = new Map<string, OpSpec>(SPECS.map((s) => [s.name, s]));

export function isOpName(name: string): name is OpName {
  return BY_NAME.has(name);
}

export function opSpec(op: OpName | OpIndex): OpSpec {
  const spec = typeof op === "number" ? SPECS[op] : BY_NAME.get(op);
  if (!spec) throw new Error(`unknown op ${JSON.stringify(op)}; valid ops: ${NAMES.join(", ")}`);
  return spec;
}

export function opIndex(name: OpName): OpIndex {
  return opSpec(name).index;
}

/**
 * Adds a primitive of an existing family with the next index. It must fit that family's
 * hypernetwork unit: a convolution runs on the universal unit (3×3 on the centre 9 of its 25
 * taps or 5×5 on all, dilation 1 or 2 from its address generator, same-size padding; sep_conv
 * is undilated), a pooling on the 3×3 pool unit.
 */
export function registerOp(spec: Omit<OpSpec, "index">): OpSpec {
  if (BY_NAME.has(spec.name)) throw new Error(`op '${spec.name}' is already registered`);
  if (!/^[a-z][a-z0-9_]*$/.test(spec.name))
    throw new Error(`op name '${spec.name}': lower-case letters, digits and '_', starting with a letter`);
  const misfit = unitMisfit(spec);
  if (misfit) throw new Error(`op '${spec.name}' does not fit its hypernetwork unit: ${misfit}`);
  const full: OpSpec = { ...spec, index: SPECS.length };
  SPECS.push(full);
  NAMES.push(full.name);
  BY_NAME.set(full.name, full);
  return full;
}

function unitMisfit(s: Omit<OpSpec, "index">): string | null {
  switch (s.family) {
    case "none":
    case "skip":
      return `a second '${s.family}' op would duplicate '${s.family === "none" ? "none" : "skip_connect"}'`;
    case "pool":
      return s.kernel === 3 && s.dilation === 1 && s.padding === 1 && s.pool
        ? null
        : "the pool unit is a 3×3 window (dilation 1, padding 1), max or avg";
    case "sep_conv":
    case "dil_conv":
      if (s.kernel !== 3 && s.kernel !== 5) return "the universal unit holds 3×3 or 5×5 depthwise kernels";
      if (s.dilation !== 1 && s.dilation !== 2)
        return "the universal unit's address generator dilates by 1 or 2";
      if (s.family === "sep_conv" && s.dilation !== 1)
        return "sep_conv is undilated (a dilated one is dil_conv)";
      if (s.padding !== (s.dilation * (s.kernel - 1)) / 2)
        return `padding must keep the map's size: dilation × (kernel − 1) / 2 = ${(s.dilation * (s.kernel - 1)) / 2}`;
      return null;
  }
}

/** The valid op name closest to `name` (edit distance), for "did you mean" messages. */
export function closestOpName(name: string): OpName {
  let best: OpName = NAMES[0]!;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const candidate of NAMES) {
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
