/**
 * Technology files: every circuit parameter of the cost model, each with its unit and its
 * source. A user's file overrides any field of a shipped one; unknown keys, missing
 * sources and out-of-range values are rejected with the path of the offending field.
 */
import { z } from "zod";
import { FileReadError, isUserFile, readShippedJson, readUserJson } from "../util/files.js";
import { mergeJson } from "../util/merge.js";
import { componentOverrideProblems } from "./periphery.js";

const param = (unit: string, min = 0) =>
  z
    .object({
      value: z.number().min(min, { message: `must be ≥ ${min}` }),
      unit: z.literal(unit, { message: `unit must be '${unit}'` }),
      source: z.string().min(3, { message: "every number names its source" }),
    })
    .strict();

export const TechSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    node: param("nm", 1),
    clock: param("GHz", 1e-3),
    cell: z
      .object({
        areaF2: param("F^2", 1),
        rOn: param("ohm", 1),
        rOff: param("ohm", 1),
        readVoltage: param("V", 0.01),
        readPulse: param("ns", 0.01),
        writeVoltage: param("V", 0.01),
        writePulse: param("ns", 0.01),
        writeVerifyPulses: param("pulses", 1),
      })
      .strict(),
    array: z
      .object({
        wiringAreaFactor: param("x", 1),
        sensingLatencyFactor: param("x", 1),
        energyFactor: param("x", 1),
      })
      .strict(),
    adc: z
      .object({
        powerSlope: param("uW/bit"),
        powerOffset: param("uW"),
        latencyPerBit: param("ns", 1e-4),
        areaPerBit: param("um^2"),
      })
      .strict(),
    dac: z
      .object({
        power: param("uW"),
        area: param("um^2"),
        rate: param("GS/s", 1e-3),
        /** An 8-bit DAC (the parallel analog platform's image input), at `rate`. */
        multiBitPower: param("uW"),
        multiBitArea: param("um^2"),
      })
      .strict(),
    sampleHold: z.object({ energy: param("pJ"), area: param("um^2") }).strict(),
    digital: z
      .object({
        addEnergyPerBit: param("pJ"),
        addAreaPerBit: param("um^2"),
        shiftAddEnergy: param("pJ"),
        shiftAddArea: param("um^2"),
        comparatorEnergyPerBit: param("pJ"),
        comparatorAreaPerBit: param("um^2"),
        multiplyEnergy8: param("pJ"),
        reluEnergy: param("pJ"),
      })
      .strict(),
    switches: z.object({ muxEnergy: param("pJ"), muxArea: param("um^2"), muxDelay: param("ns") }).strict(),
    buffer: z
      .object({
        readEnergyPerBit: param("pJ"),
        writeEnergyPerBit: param("pJ"),
        areaPerBit: param("um^2"),
        leakagePerBit: param("uW"),
      })
      .strict(),
    routing: z.object({ energyPerBitMm: param("pJ"), areaFactor: param("x") }).strict(),
    /** Circuits of the parallel analog platform. */
    analog: z
      .object({
        supply: param("V", 0.1),
        /** Analog neurons: TIAs, summing amplifiers and integrators. */
        amplifier: z
          .object({
            gmOverId: param("1/V", 1),
            branches: param("x", 1),
            loadCapacitance: param("fF", 1e-3),
            noiseGain: param("x", 1),
            inputNoise: param("nV/rtHz"),
            outputSwing: param("V", 1e-3),
            area: param("um^2"),
            settlingTimeConstants: param("x", 1),
          })
          .strict(),
        /** Analog ReLU at an amplifier's output. */
        clamp: z.object({ area: param("um^2") }).strict(),
        /** Winner-take-all circuit of an analog max pool. */
        wta: z.object({ biasCurrent: param("uA"), areaPerInput: param("um^2") }).strict(),
        /** Analog switches and MUX pass gates. */
        switch: z
          .object({
            rOn: param("ohm"),
            capacitance: param("fF"),
            area: param("um^2"),
            leakage: param("pA"),
            perStage: param("switches"),
          })
          .strict(),
        wire: z.object({ resistance: param("ohm/um"), capacitance: param("fF/um") }).strict(),
        /** Sample-and-hold cell of the analog line buffers. */
        hold: z
          .object({ capacitance: param("fF", 1e-3), area: param("um^2"), leakage: param("fA") })
          .strict(),
        /**
         * Per-column gain and offset trims of every weight layer: a switched bank of feedback
         * resistors sets the TIA's gain, a current DAC its offset.
         */
        trim: z.object({ gainBankArea: param("um^2"), offsetReference: param("uA") }).strict(),
      })
      .strict(),
    /** Values of registered periphery components' parameters (src/hw/periphery.ts), each with unit and source. */
    components: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const { path, message } of componentOverrideProblems(t.components ?? {}))
      ctx.addIssue({ code: "custom", path, message });
  });

export type TechFile = z.infer<typeof TechSchema>;

/** Plain numbers of a technology file, in its units (the cost model reads these). */
type Numbers<T> = T extends { value: number }
  ? number
  : T extends Record<string, unknown>
    ? { readonly [K in keyof T]: Numbers<T[K]> }
    : T;
export type Tech = Numbers<TechFile>;

export class TechError extends Error {
  override name = "TechError";
}

export const SHIPPED_TECH = ["neurosim-22nm", "mnsim-130nm"] as const;

/** Shipped files, validated once per process. */
const shipped = new Map<string, { file: TechFile; tech: Tech }>();

/** A shipped name, or a JSON file that overrides fields of the file it names in "base" (default neurosim-22nm). */
export function loadTech(spec = "neurosim-22nm"): { file: TechFile; tech: Tech } {
  if ((SHIPPED_TECH as readonly string[]).includes(spec)) {
    const cached = shipped.get(spec);
    if (cached) return cached;
    const t = validate(shippedJson(spec), spec);
    shipped.set(spec, t);
    return t;
  }
  if (!isUserFile(spec))
    throw new TechError(
      `technology file '${spec}' not found; use one of ${SHIPPED_TECH.join(", ")} or a JSON file`,
    );
  const user = readJson(spec) as Record<string, unknown>;
  const baseName = typeof user.base === "string" ? user.base : "neurosim-22nm";
  if (!(SHIPPED_TECH as readonly string[]).includes(baseName))
    throw new TechError(
      `${spec}: base: unknown technology '${baseName}'; use one of ${SHIPPED_TECH.join(", ")}`,
    );
  const { base: _, ...overrides } = user;
  const merged = mergeJson(shippedJson(baseName), overrides);
  return validate(merged, spec);
}

function readJson(path: string): unknown {
  try {
    return readUserJson(path);
  } catch (e) {
    if (e instanceof FileReadError) throw new TechError(e.message);
    throw e;
  }
}

function shippedJson(name: string): unknown {
  const json = readShippedJson(`tech/${name}.json`);
  if (json === undefined)
    throw new TechError(`technology file tech/${name}.json is missing from the package`);
  return json;
}

export function validate(raw: unknown, where: string): { file: TechFile; tech: Tech } {
  const r = TechSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`);
    throw new TechError(
      `${where}: invalid technology file:\n  ${lines.join("\n  ")}\nEvery component needs value, unit and source (see tech/neurosim-22nm.json).`,
    );
  }
  return { file: r.data, tech: numbers(r.data) as Tech };
}

function numbers(o: unknown): unknown {
  if (o && typeof o === "object") {
    if ("value" in o && "source" in o) return (o as { value: number }).value;
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, numbers(v)]));
  }
  return o;
}
