/**
 * The design levers of the hypernetwork's hardware, each a field of the hardware configuration,
 * and the ablation that switches them off one at a time. Individual deployment applies the
 * layout levers too (they lower its area at the same latency and energy); pooling serves
 * units of which only some are active, and narrow pooling units add latency, so those are the
 * hypernetwork's alone.
 */
import type { Hardware, HardwareConfig } from "../hw/config.js";
import type { Architecture } from "../space/architecture.js";
import { compareDeployments, type HyperComparison } from "./cost.js";
import type { HyperSpec } from "./hardware.js";

export interface Lever {
  readonly name: string;
  readonly field: string;
  readonly off: string;
  /** Whether individual deployment uses it as well. */
  readonly baseline: boolean;
  readonly read: (c: HardwareConfig) => string;
  readonly set: (c: HardwareConfig, value: string) => HardwareConfig;
}

/** A lever that is one enumerated field of a configuration group, off at `off`. */
function fieldLever<G extends "layout" | "hypernetwork">(
  name: string,
  group: G,
  key: keyof HardwareConfig[G] & string,
  off: string,
  baseline: boolean,
): Lever {
  return {
    name,
    field: `${group}.${key}`,
    off,
    baseline,
    read: (c) => String(c[group][key]),
    set: (c, v) => ({ ...c, [group]: { ...c[group], [key]: v } }),
  };
}

export const LEVERS: readonly Lever[] = [
  fieldLever("fitted arrays", "layout", "arrayWidth", "tile", true),
  fieldLever("shared line buffers", "layout", "lineBuffers", "per-unit", true),
  fieldLever("pooled periphery", "hypernetwork", "periphery", "per-unit", false),
  {
    name: "narrow pooling units",
    field: "hypernetwork.poolingLanes",
    off: "per-channel",
    baseline: false,
    read: (c) => (c.hypernetwork.poolingLanes === null ? "per-channel" : String(c.hypernetwork.poolingLanes)),
    set: (c, v) => ({
      ...c,
      hypernetwork: { ...c.hypernetwork, poolingLanes: v === "per-channel" ? null : Number(v) },
    }),
  },
  fieldLever("scheduled pools", "hypernetwork", "poolSchedule", "passes", false),
];

/** The lever settings of a configuration, by field. */
export function leverSettings(c: HardwareConfig): Record<string, string> {
  return Object.fromEntries(LEVERS.map((l) => [l.field, l.read(c)]));
}

/** What individual deployment is priced with, in words (printed beside the ratios). */
export function baselineSettings(c: HardwareConfig): string {
  const used = LEVERS.filter((l) => l.baseline).map((l) => `${l.field} ${l.read(c)}`);
  const h = c.hypernetwork;
  const pools =
    h.periphery === "pooled"
      ? ` (pools for ${h.poolInputsPerNode} active inputs per node${h.poolEntries === null ? "" : `, at most ${h.poolEntries} entries`}, turns ${h.poolSchedule})`
      : "";
  const lanes = h.poolingLanes === null ? "a lane per channel" : `${h.poolingLanes} lane(s)`;
  return `individual deployment: ${used.join(", ")}; hypernetwork: the same, hypernetwork.periphery ${h.periphery}${pools}, pooling units with ${lanes}`;
}

export interface AblationRow {
  /** "all levers", "without <lever>", or "no lever". */
  readonly label: string;
  readonly settings: Record<string, string>;
  readonly rows: readonly HyperComparison[];
}

/** The comparison with the configured levers, then with each one switched off, then with none. */
export function ablation(spec: HyperSpec, archs: readonly Architecture[], hw: Hardware): AblationRow[] {
  const run = (label: string, config: HardwareConfig): AblationRow => ({
    label,
    settings: leverSettings(config),
    rows: compareDeployments(spec, archs, { ...hw, config }),
  });
  const none = LEVERS.reduce((c, l) => l.set(c, l.off), hw.config);
  return [
    run("all levers", hw.config),
    ...LEVERS.map((l) => run(`without ${l.name}`, l.set(hw.config, l.off))),
    run("no lever", none),
  ];
}
