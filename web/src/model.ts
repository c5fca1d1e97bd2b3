/**
 * What the explorer computes, with memhyper's own library (browser entry): the edited
 * configuration, the genotype view's rule, and the costs of individual deployment and of the
 * hypernetwork for a preset, cached per preset (the hypernetwork's hardware does not depend
 * on the configuration).
 */
import "./shipped.js";
import {
  type Architecture,
  buildNetwork,
  CELL_EDGES,
  type CellType,
  type CompiledConfiguration,
  type Configuration,
  type CostReport,
  compileConfiguration,
  costNetwork,
  EDGES_PER_CELL,
  type Hardware,
  type HyperSpec,
  hardwareCost,
  hyperCost,
  hyperHardware,
  loadPreset,
  type Network,
  type OpIndex,
  PRESETS,
  requireHardware,
} from "../../src/browser.js";

export const SPEC: HyperSpec = { channels: 16, layers: 8, variant: "edge" };
/** Presets that describe hardware (fp32 is the float network). */
export const HARDWARE_PRESETS = PRESETS.filter((p) => p !== "fp32");

export const EMPTY: Configuration = {
  normal: new Array<OpIndex>(EDGES_PER_CELL).fill(0),
  reduce: new Array<OpIndex>(EDGES_PER_CELL).fill(0),
};

export function withOp(config: Configuration, type: CellType, edge: number, op: OpIndex): Configuration {
  const ops = [...config[type]];
  ops[edge] = op;
  return { ...config, [type]: ops };
}

/** Nodes of a cell with more than two inputs (the genotype view allows exactly two per node). */
export function crowdedNodes(ops: readonly OpIndex[]): number[] {
  const inputs = new Map<number, number>();
  for (const e of CELL_EDGES) if (ops[e.index] !== 0) inputs.set(e.to, (inputs.get(e.to) ?? 0) + 1);
  return [...inputs].filter(([, n]) => n > 2).map(([node]) => node);
}

/** Why the genotype view refuses an op on an edge, or null when it is allowed. */
export function genotypeViewRefusal(
  config: Configuration,
  type: CellType,
  edge: number,
  op: OpIndex,
): string | null {
  if (op === 0) return null;
  const to = CELL_EDGES[edge]!.to;
  const others = CELL_EDGES.filter(
    (e) => e.to === to && e.index !== edge && config[type][e.index] !== 0,
  ).length;
  return others >= 2
    ? `node ${to} of the ${type === "reduce" ? "reduction" : "normal"} cell already has two inputs (genotype view): set one of them to none first, or switch the genotype view off`
    : null;
}

export interface Costs {
  readonly preset: string;
  readonly hw: Hardware;
  readonly compiled: CompiledConfiguration;
  /** The architecture's own network (individual deployment). */
  readonly network: Network;
  readonly individual: CostReport;
  readonly hyper: ReturnType<typeof hyperCost>;
}

const hardwareByPreset = new Map<string, { hw: Hardware; hardware: CostReport }>();

function presetHardware(preset: string): { hw: Hardware; hardware: CostReport } {
  let h = hardwareByPreset.get(preset);
  if (!h) {
    const hw = requireHardware(loadPreset(preset));
    const hardware = hardwareCost(hyperHardware(SPEC), hw);
    h = { hw, hardware };
    hardwareByPreset.set(preset, h);
  }
  return h;
}

/** Individual deployment (costed on its own network, per layer) against the configured hypernetwork. */
export function costsOf(arch: Architecture, preset: string): Costs {
  const { hw, hardware } = presetHardware(preset);
  const compiled = compileConfiguration(SPEC, arch);
  const network = buildNetwork(arch, { channels: SPEC.channels, layers: SPEC.layers });
  const individual = costNetwork(network, hw, { perLayer: true });
  return { preset, hw, compiled, network, individual, hyper: hyperCost(compiled, hw, hardware) };
}
