/**
 * The configuration compiler: an architecture (genotype, configuration code or name) →
 * every switch, MUX and power-gating setting of the hypernetwork, and the conductance
 * programming plan (which individual-deployment weights go to which unit's arrays).
 */
import { type CellOp, cellOps } from "../ir/network.js";
import type { Architecture } from "../space/architecture.js";
import { DEFAULT_CONCAT } from "../space/cell.js";
import { type OpName, opSpec } from "../space/primitives.js";
import {
  type HyperHardware,
  type HyperSpec,
  hyperHardware,
  isStrided,
  SLOTS_PER_NODE_SLOT_VARIANT,
  type Slot,
  type UnitName,
} from "./hardware.js";

/** Depthwise taps of a 5×5 window (row-major). */
export const UNIVERSAL_KERNEL = 5;
export const UNIVERSAL_TAPS = UNIVERSAL_KERNEL * UNIVERSAL_KERNEL;

export interface UniversalSetting {
  /** Kernel realised: 3×3 on the centre 9 rows (the other 16 gated) or 5×5 on all 25. */
  readonly kernel: 3 | 5;
  readonly dilation: 1 | 2;
  readonly stride: 1 | 2;
  /** sep_conv runs both stages; dil_conv bypasses the second. */
  readonly stage2: boolean;
}

export interface SlotSetting {
  readonly slot: Slot;
  /** The op this slot realises; `none` opens it. */
  readonly op: OpName;
  /** The cell state its input takes (null when open). */
  readonly source: number | null;
  /** The unit the output MUX selects (null when open); every other unit is power-gated. */
  readonly unit: UnitName | null;
  readonly stride: 1 | 2;
  readonly universal: UniversalSetting | null;
  readonly pool: "max" | "avg" | null;
  /** Parameter prefix of this op in the individual deployment's weights. */
  readonly weights: string | null;
}

/** One weight layer (or its folded batch norm) to program: individual prefix → hypernetwork prefix. */
export interface ProgramStep {
  readonly target: string;
  readonly source: string;
  /** A 3×3 depthwise kernel written into the centre of a 25-tap array. */
  readonly embed: boolean;
}

export interface Switch {
  readonly name: string;
  readonly value: string | number;
  /** Configuration bits that hold the setting: ⌈log2(choices)⌉. */
  readonly bits: number;
}

export interface CompiledConfiguration {
  readonly hardware: HyperHardware;
  readonly label: string;
  /** The configuration code (src/space/code.ts); null for genotypes outside the edge-complete view. */
  readonly code: string | null;
  readonly settings: readonly SlotSetting[];
  readonly switches: readonly Switch[];
  readonly plan: readonly ProgramStep[];
}

export class CompileError extends Error {}

export function compileConfiguration(spec: HyperSpec, arch: Architecture): CompiledConfiguration {
  const hw = hyperHardware(spec);
  const settings: SlotSetting[] = [];
  for (const cell of hw.cells) {
    const type = cell.reduction ? "reduce" : "normal";
    const { ops, concat } = cellOps(arch, type, cell.index);
    if ([...concat].sort().join() !== DEFAULT_CONCAT.join())
      throw new CompileError(
        `${arch.label}: ${type}_concat ${JSON.stringify(concat)} is not what the hypernetwork wires; its cells concatenate nodes 2..5`,
      );
    const assigned = assignSlots(spec, cell.slots, ops, `${arch.label} (${type} cell)`);
    for (const slot of cell.slots) settings.push(settingFor(slot, cell.reduction, assigned.get(slot.index)));
  }
  return {
    hardware: hw,
    label: arch.label,
    code: arch.code,
    settings,
    switches: settings.flatMap(switchesOf),
    plan: [...fixedPlan(hw), ...settings.flatMap(planOf)],
  };
}

/** Which op each slot realises (slot index → op). */
function assignSlots(
  spec: HyperSpec,
  slots: readonly Slot[],
  ops: readonly CellOp[],
  where: string,
): Map<number, CellOp> {
  const out = new Map<number, CellOp>();
  if (spec.variant === "edge") {
    for (const o of ops) {
      const slot = slots.find((s) => s.edge === o.edge)!;
      if (out.has(slot.index))
        throw new CompileError(
          `${where}: the edge from ${o.from} to node ${o.to} carries two ops (${out.get(slot.index)!.op}, ${o.op}); the edge variant has one slot per edge — use --variant node`,
        );
      out.set(slot.index, o);
    }
    return out;
  }
  for (const node of new Set(slots.map((s) => s.node))) {
    const nodeOps = ops.filter((o) => o.to === node);
    const nodeSlots = slots.filter((s) => s.node === node);
    if (nodeOps.length > nodeSlots.length)
      throw new CompileError(
        `${where}: node ${node} has ${nodeOps.length} inputs (${nodeOps.map((o) => `${o.op} from ${o.from}`).join(", ")}); the node variant has ${SLOTS_PER_NODE_SLOT_VARIANT} slots per node — use --variant edge`,
      );
    nodeOps.forEach((o, j) => {
      out.set(nodeSlots[j]!.index, o);
    });
  }
  return out;
}

function settingFor(slot: Slot, reduction: boolean, o: CellOp | undefined): SlotSetting {
  if (!o)
    return {
      slot,
      op: "none",
      source: null,
      unit: null,
      stride: 1,
      universal: null,
      pool: null,
      weights: null,
    };
  const spec = opSpec(o.op);
  const stride = isStrided(reduction, o.from) ? 2 : 1;
  const base = { slot, op: o.op, source: o.from, stride, weights: o.path } as const;
  switch (spec.family) {
    case "pool":
      return { ...base, unit: "pool", universal: null, pool: spec.pool! };
    case "skip":
      return { ...base, unit: stride === 2 ? "fr" : "identity", universal: null, pool: null };
    case "sep_conv":
    case "dil_conv":
      return {
        ...base,
        unit: "universal",
        pool: null,
        universal: {
          kernel: spec.kernel as 3 | 5,
          dilation: spec.dilation as 1 | 2,
          stride,
          stage2: spec.family === "sep_conv",
        },
      };
    case "none":
      throw new Error("internal: 'none' ops are never listed");
  }
}

function switchesOf(s: SlotSetting): Switch[] {
  const p = s.slot.path;
  const out: Switch[] = [];
  const choose = (name: string, value: string | number, choices: number) =>
    out.push({ name, value, bits: Math.ceil(Math.log2(choices)) });
  // A MUX chooses among its inputs or none (open).
  if (s.slot.sources.length > 1) choose(`${p}.mux.in`, s.source ?? "open", s.slot.sources.length + 1);
  choose(`${p}.mux.out`, s.unit ?? "open", s.slot.units.length + 1);
  for (const u of s.slot.units) choose(`${p}.power.${u}`, u === s.unit ? "on" : "off", 2);
  if (s.universal) {
    const u = s.universal;
    choose(`${p}.universal.rows`, u.kernel === 3 ? "centre-9" : "all-25", 2);
    choose(`${p}.universal.dilation`, u.dilation, 2);
    choose(`${p}.universal.stride`, u.stride, 2);
    choose(`${p}.universal.stage2`, u.stage2 ? "on" : "bypass", 2);
  }
  if (s.pool) {
    choose(`${p}.pool.mode`, s.pool, 2);
    choose(`${p}.pool.stride`, s.stride, 2);
  }
  return out;
}

/** Parameter prefixes of a universal unit's layers in the hypernetwork. */
export function universalParams(slot: string) {
  const u = `${slot}.universal`;
  return {
    dw1: `${u}.dw1`,
    pw1: `${u}.pw1`,
    bn1: `${u}.bn1`,
    dw2: `${u}.dw2`,
    pw2: `${u}.pw2`,
    bn2: `${u}.bn2`,
  };
}

/** Parameter prefix of a slot's FactorizedReduce unit (its layers: conv_1, conv_2, bn). */
export function frPrefix(slot: string): string {
  return `${slot}.fr`;
}

function planOf(s: SlotSetting): ProgramStep[] {
  const w = s.weights;
  if (!w) return [];
  const embed = s.universal?.kernel === 3;
  if (s.unit === "universal") {
    const u = universalParams(s.slot.path);
    const steps: ProgramStep[] = [
      { target: u.dw1, source: `${w}.op.1`, embed },
      { target: u.pw1, source: `${w}.op.2`, embed: false },
      { target: u.bn1, source: `${w}.op.3`, embed: false },
    ];
    if (s.universal!.stage2)
      steps.push(
        { target: u.dw2, source: `${w}.op.5`, embed },
        { target: u.pw2, source: `${w}.op.6`, embed: false },
        { target: u.bn2, source: `${w}.op.7`, embed: false },
      );
    return steps;
  }
  if (s.unit === "fr") {
    const f = frPrefix(s.slot.path);
    return ["conv_1", "conv_2", "bn"].map((l) => ({
      target: `${f}.${l}`,
      source: `${w}.${l}`,
      embed: false,
    }));
  }
  return [];
}

/** The stem, the cells' preprocessing and the classifier sit in every architecture, unchanged. */
function fixedPlan(hw: HyperHardware): ProgramStep[] {
  const same = (p: string): ProgramStep => ({ target: p, source: p, embed: false });
  const steps = [same("stem.0"), same("stem.1")];
  hw.cells.forEach((_, k) => {
    const afterReduction = hw.reductions.includes(k - 1);
    const p0 = `cells.${k}.preprocess0`;
    if (afterReduction) steps.push(same(`${p0}.conv_1`), same(`${p0}.conv_2`), same(`${p0}.bn`));
    else steps.push(same(`${p0}.op.1`), same(`${p0}.op.2`));
    steps.push(same(`cells.${k}.preprocess1.op.1`), same(`cells.${k}.preprocess1.op.2`));
  });
  steps.push(same("classifier"));
  return steps;
}

/** A readable listing: one line per slot that is not open, then the count of open slots. */
export function formatListing(c: CompiledConfiguration): string {
  const lines = [
    `hypernetwork ${c.hardware.spec.variant} variant, C=${c.hardware.spec.channels}, L=${c.hardware.spec.layers}: ${c.label}`,
    `code ${c.code ?? "(none: outside the edge-complete view)"}`,
  ];
  let open = 0;
  for (const s of c.settings) {
    if (!s.unit) {
      open++;
      continue;
    }
    const u = s.universal;
    const detail = u
      ? `rows ${u.kernel === 3 ? "centre-9" : "all-25"}, dilation ${u.dilation}, stride ${u.stride}, stage 2 ${u.stage2 ? "on" : "bypassed"}`
      : s.pool
        ? `${s.pool} pool, stride ${s.stride}`
        : s.unit === "fr"
          ? "FactorizedReduce, stride 2"
          : "identity wire";
    lines.push(
      `${s.slot.path.padEnd(16)} node ${s.slot.node} ← ${s.source}  ${s.op.padEnd(13)} ${s.unit.padEnd(9)} ${detail}`,
    );
  }
  lines.push(
    `${open} slots open (power-gated), ${c.switches.length} switch settings, ${c.plan.length} programming steps`,
  );
  return lines.join("\n");
}
