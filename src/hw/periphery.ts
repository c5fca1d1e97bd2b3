/**
 * Periphery components added to the cost model by registration: each sits at a site of every
 * weight layer (one per ADC, or one per array), adds its area per instance and its energy per
 * ADC conversion to one kind of the breakdown, and carries its technology parameters with
 * their units and sources. A technology file may override their values under
 * `components.<name>.<parameter>`. The built-in periphery (src/hw/designs.ts,
 * src/hw/analog-designs.ts) is priced by the designs themselves; a new component is its entry
 * and one `registerPeripheryComponent` call.
 */
import type { Platform } from "./config.js";
import type { ComponentKind } from "./designs.js";

/** A technology parameter: value in `unit`, and where the value comes from. */
export interface PeripheryParam {
  readonly value: number;
  readonly unit: string;
  readonly source: string;
}

export interface PeripheryComponentEntry {
  /** Its key under `components` in technology files. */
  readonly name: string;
  readonly description: string;
  /** The breakdown kind its area and energy add to. */
  readonly kind: ComponentKind;
  readonly platforms: readonly Platform[];
  /** One instance per ADC ("adc") or per array ("array") of each weight layer. */
  readonly site: "adc" | "array";
  readonly params: Readonly<Record<string, PeripheryParam>>;
  /** Area of one instance (µm²) and energy of one ADC conversion it takes part in (pJ), from its parameters' values. */
  cost(p: Readonly<Record<string, number>>): { readonly areaUm2: number; readonly energyPj: number };
}

const entries = new Map<string, PeripheryComponentEntry>();
/** The registered components in order, kept beside the map: the cost model reads it for every layer. */
const registered: PeripheryComponentEntry[] = [];

export function registerPeripheryComponent(entry: PeripheryComponentEntry): void {
  if (entries.has(entry.name)) throw new Error(`periphery component '${entry.name}' is already registered`);
  for (const [k, p] of Object.entries(entry.params))
    if (!(p.source.length >= 3)) throw new Error(`periphery component '${entry.name}': ${k} names no source`);
  entries.set(entry.name, entry);
  registered.push(entry);
}

export function peripheryComponents(): readonly PeripheryComponentEntry[] {
  return registered;
}

/**
 * Problems of a technology file's `components` section, each with its path (none when it is
 * valid): every name a registered component, every parameter one of its own, in its unit,
 * with a source.
 */
export function componentOverrideProblems(
  section: Record<string, Record<string, unknown>>,
): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  for (const [name, params] of Object.entries(section)) {
    const entry = entries.get(name);
    if (!entry) {
      const known = [...entries.keys()].join(", ") || "none";
      problems.push({
        path: ["components", name],
        message: `unknown periphery component; registered: ${known}`,
      });
      continue;
    }
    for (const [k, raw] of Object.entries(params)) {
      const want = entry.params[k];
      const p = (raw ?? {}) as Partial<PeripheryParam>;
      const path = ["components", name, k];
      if (!want)
        problems.push({
          path,
          message: `not a parameter of ${name} (${Object.keys(entry.params).join(", ")})`,
        });
      else if (typeof p.value !== "number" || !(p.value >= 0))
        problems.push({ path: [...path, "value"], message: "must be a number ≥ 0" });
      else if (p.unit !== want.unit)
        problems.push({ path: [...path, "unit"], message: `unit must be '${want.unit}'` });
      else if (typeof p.source !== "string" || p.source.length < 3)
        problems.push({ path: [...path, "source"], message: "every number names its source" });
    }
  }
  return problems;
}

/** A technology file's `components` section as numbers: parameter values by component. */
export type ComponentOverrides = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** A component's parameter values: the technology file's overrides over its own defaults. */
export function componentValues(
  entry: PeripheryComponentEntry,
  overrides: ComponentOverrides | undefined,
): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [k, p] of Object.entries(entry.params)) values[k] = overrides?.[entry.name]?.[k] ?? p.value;
  return values;
}
