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

export const LEVERS: readonly Lever[] = [
  {
    name: "fitted arrays",
    field: "layout.arrayWidth",
    off: "tile",
    baseline: true,
    read: (c) => c.layout.arrayWidth,
    set: (c, v) => ({
      ...c,
      layout: { ...c.layout, arrayWidth: v as HardwareConfig["layout"]["arrayWidth"] },
    }),
  },
  {
    name: "shared line buffers",
    field: "layout.lineBuffers",
    off: "per-unit",
    baseline: true,
    read: (c) => c.layout.lineBuffers,
    set: (c, v) => ({
      ...c,
      layout: { ...c.layout, lineBuffers: v as HardwareConfig["layout"]["lineBuffers"] },
    }),
  },
  {
    name: "pooled periphery",
    field: "hypernetwork.periphery",
    off: "per-unit",
    baseline: false,
    read: (c) => c.hypernetwork.periphery,
    set: (c, v) => ({
      ...c,
      hypernetwork: { ...c.hypernetwork, periphery: v as HardwareConfig["hypernetwork"]["periphery"] },
    }),
  },
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
  {
    name: "scheduled pools",
    field: "hypernetwork.poolSchedule",
    off: "passes",
    baseline: false,
    read: (c) => c.hypernetwork.poolSchedule,
    set: (c, v) => ({
      ...c,
      hypernetwork: { ...c.hypernetwork, poolSchedule: v as HardwareConfig["hypernetwork"]["poolSchedule"] },
    }),
  },
];

/** The lever settings of a configuration, by field. */
export function leverSettings(c: HardwareConfig): Record<string, string> {
  return Object.fromEntries(LEVERS.map((l) => [l.field, l.read(c)]));
}

/** What individual deployment is priced with, in words (printed beside the ratios). */
export function baselineSettings(c: HardwareConfig): string {
  const used = LEVERS.filter((l) => l.baseline).map((l) => `${l.field} ${l.read(c)}`);
  return `individual deployment: ${used.join(", ")}; hypernetwork: the same, hypernetwork.periphery ${c.hypernetwork.periphery}${c.hypernetwork.periphery === "pooled" ? ` (pools for ${c.hypernetwork.poolInputsPerNode} active inputs per node${c.hypernetwork.poolEntries === null ? "" : `, at most ${c.hypernetwork.poolEntries} entries`}, turns ${c.hypernetwork.poolSchedule})` : ""}, pooling units with ${c.hypernetwork.poolingLanes === null ? "a lane per channel" : `${c.hypernetwork.poolingLanes} lane(s)`}`;
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
