/**
 * The hardware configuration: one typed description of a memristive deployment that both the
 * crossbar simulator (accuracy) and the cost model (area, energy, latency) read. It covers
 * the tiles, the weight mapping and slicing, how inputs are applied (DACs or analog drive),
 * the periphery (ADCs, or the parallel analog platform's analog neurons), the devices and
 * the technology file of the circuits.
 *
 * `presets/default.json` holds every field with its source; every other preset lists only
 * the fields it changes (each with its source). A user's JSON file names a `base` preset and
 * overrides any field. Unknown fields and bad values are rejected with the path of the field.
 */
import { z } from "zod";
import { deviceModelEntry, deviceModelNames } from "../device/registry.js";
import { FileReadError, readShippedJson, readUserJson } from "../util/files.js";
import { isObject, mergeJson } from "../util/merge.js";
import { loadTech, type Tech, type TechFile } from "./tech.js";

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** `device.model` names a registered model and `device.params` fits that model's schema. */
function validDeviceModel(d: { model: string; params: Record<string, unknown> }, ctx: z.RefinementCtx): void {
  const entry = deviceModelEntry(d.model);
  if (!entry) {
    ctx.addIssue({
      code: "custom",
      path: ["model"],
      message: `unknown device model '${d.model}'; registered: ${deviceModelNames().join(", ")}`,
    });
    return;
  }
  const r = entry.params.safeParse(d.params);
  if (!r.success)
    for (const i of r.error.issues) {
      const keys = i.code === "unrecognized_keys" ? ` ${i.keys.join(", ")}` : "";
      ctx.addIssue({
        code: "custom",
        path: ["params", ...i.path],
        message: `${i.message}${keys} (model ${d.model})`,
      });
    }
}

export const HardwareConfigSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    /** false: the float network as trained (fp32); it describes no hardware. */
    quantize: z.boolean(),
    weightBits: int(2, 16),
    inputBits: int(2, 16),
    calibration: z
      .object({
        method: z.enum(["max", "percentile"]),
        percentile: z.number().gt(0).max(100),
        /** Training images whose activations set the input scales (and ADC ranges). */
        images: int(1, 50000),
        seed: int(0, 2 ** 32 - 1),
      })
      .strict(),
    tile: int(8, 4096),
    /** Technology file of the circuits: a shipped name (tech/*.json) or a JSON file. */
    tech: z.string().min(1),
    dac: z
      .object({
        mode: z.enum(["bit-serial", "multi-bit"]),
        /**
         * Signed inputs in bit-serial mode: "two-phase" applies the positive part and then the
         * magnitudes of the negative part (2·(bits−1) phases); "twos-complement" applies the
         * bits of the two's complement code, the top one weighted −2^(bits−1) (bits phases).
         */
        signedInputs: z.enum(["two-phase", "twos-complement"]),
      })
      .strict(),
    adc: z
      .object({
        /** null: lossless conversion. */
        bits: int(1, 16).nullable(),
        range: z.enum(["calibrated", "full-scale"]),
        columnsPerAdc: int(1, 4096),
        /**
         * Rows of an array driven in one read (NeuroSim's partial parallel read): each group
         * of this many rows is read and converted on its own, and the partial sums are added
         * digitally. null: every row at once.
         */
        rowsPerRead: int(1, 4096).nullable(),
        /**
         * Where a differential pair's two currents are subtracted: "digital" (one unipolar
         * conversion per device column) or "analog" (current subtraction, then one bipolar
         * conversion per pair: half the conversions, a signed ADC range).
         */
        pairSubtraction: z.enum(["digital", "analog"]),
        /** Calibration images whose currents set a calibrated ADC's range, after each programming. */
        calibrationImages: int(1, 50000),
      })
      .strict(),
    conductance: z
      .object({
        /** µS; null: 1/rOff of the technology file. */
        gMin: z.number().min(0).nullable(),
        /** µS; null: 1/rOn of the technology file. */
        gMax: z.number().positive().nullable(),
        cellBits: int(1, 8),
      })
      .strict(),
    device: z
      .object({
        /** A registered device model (src/device/registry.ts): ideal, pcm, reram. */
        model: z.string(),
        /** The model's own parameters, validated by its schema (e.g. reram: readNoise). */
        params: z.record(z.string(), z.unknown()),
        programmingNoise: z.boolean(),
        readNoise: z.boolean(),
        drift: z.boolean(),
        /** Seconds between programming and inference. */
        time: z.number().min(0),
        /** σ of a lognormal device-to-device factor (0: off). */
        deviceToDevice: z.number().min(0).max(2),
        stuckAtRate: z.number().min(0).max(1),
        /** Share of stuck devices stuck at Gmin (the rest at Gmax). */
        stuckAtLowShare: z.number().min(0).max(1),
        /**
         * Devices whose target is Gmin (digit 0: the unused device of every pair, the empty upper
         * slices of small weights) stay unprogrammed in their reset state, exactly at Gmin: no
         * programming noise, no drift. Off (false) as aihwkit, which programs every device.
         */
        gMinDevicesExact: z.boolean(),
        /**
         * The cross-points of a depthwise array where no weight can sit (a channel's columns
         * against another channel's rows): "programmed" to Gmin like any digit-0 device, or
         * "unformed", never formed nor programmed (exactly Gmin, no noise, no drift).
         */
        offBlockDevices: z.enum(["programmed", "unformed"]),
      })
      .strict()
      .superRefine(validDeviceModel),
    /**
     * The parallel analog platform: the image through DACs once, analog neurons after every
     * weight layer, analog ReLU, pooling and node sums, one ADC bank at the logits. Its noise
     * and saturation follow from the amplifier priced in the technology file (analog.*).
     */
    analogChain: z
      .object({
        enabled: z.boolean(),
        /** Bits of the ADC bank at the classifier output (null: lossless). */
        finalAdcBits: int(1, 16).nullable(),
        /** Closed-loop −3 dB bandwidth of every analog neuron (MHz): sets settling time, noise and bias power. */
        amplifierBandwidth: z.number().positive().finite(),
        /** Share of the amplifier's output swing that a layer's calibrated output range uses (1: all of it). */
        calibratedSwing: z.number().gt(0).max(1),
        /** Copies of every layer's arrays and neurons computing output positions side by side. */
        spatialParallelism: int(1, 4096),
        /** Wire between one stage's amplifier and the next stage's rows, besides the array's own lines (µm). */
        stageWireLength: z.number().min(0).finite(),
        /**
         * Resolution of each weight layer's per-column gain and offset trims (the per-channel
         * weight scale and the batch norm's scale and offset, set after programming).
         */
        trimBits: int(2, 12),
      })
      .strict(),
    /** How weight layers and their buffers are laid out (individual deployment and hypernetwork alike). */
    layout: z
      .object({
        /**
         * "tile": every array is a full T×T tile with periphery for every column; "fitted": an
         * array is only as wide as the weight columns placed on it (a depthwise layer's
         * block-diagonal channels, a layer with fewer outputs than a tile holds), periphery for
         * those columns only.
         */
        arrayWidth: z.enum(["tile", "fitted"]),
        /**
         * "per-unit": every windowed unit has its own line buffer; "per-source": units that read
         * the same activation share one, as tall as the widest window among them.
         */
        lineBuffers: z.enum(["per-unit", "per-source"]),
        /**
         * Devices per weight: every logical row on this many physical rows driven by the same
         * input, so each column adds as many independently programmed copies of a weight (its
         * sum divided digitally by the count): programming and read noise average down.
         */
        weightCopies: int(1, 16),
        /**
         * Devices per weight of the depthwise layers (null: `weightCopies`). Depthwise arrays are
         * mostly empty (block-diagonal), so their copies cost little area; the dense layers'
         * copies cost most of it.
         */
        depthwiseWeightCopies: int(1, 16).nullable(),
      })
      .strict(),
    /** The all-inclusive hypernetwork's periphery. */
    hypernetwork: z
      .object({
        /**
         * "per-unit": every unit carries its own converters or neurons; "pooled": the units of one
         * kind in a cell share a pool switched to the active ones (a configuration is static).
         */
        periphery: z.enum(["per-unit", "pooled"]),
        /**
         * Active inputs per node the pool serves at once (2: the genotype view, no waiting); a
         * configuration that needs more time-multiplexes the pool.
         */
        poolInputsPerNode: int(1, 5),
        /** At most this many entries in each pool (null: the demand poolInputsPerNode sets). */
        poolEntries: z.union([z.null(), int(1, 14)]),
        /**
         * How units take turns on an oversubscribed pool on the digital periphery platform:
         * "passes", every layer of the job ⌈active / entries⌉ times; "scheduled", each layer on
         * one entry of its band once its inputs are complete and the entry is free (a static
         * list schedule of the configuration). The parallel analog platform streams and always
         * takes passes.
         */
        poolSchedule: z.enum(["passes", "scheduled"]),
        /**
         * Lanes of each of its digital pooling units (max and average): channels take turns,
         * ⌈channels / lanes⌉ cycles per output position; null: one lane per channel, as in
         * individual deployment. The parallel analog platform pools in the stream and ignores it.
         */
        poolingLanes: z.union([z.null(), int(1, 4096)]),
        /**
         * Width of a periphery register that a configuration sets (a batch norm's per-channel
         * scale or offset, a layer's input scale, an array's ADC range).
         */
        registerBits: int(4, 64),
        /** Bits the configuration bus writes per clock cycle (switch settings and registers). */
        configurationBusBits: int(1, 4096),
      })
      .strict(),
    /**
     * After each programming, every output channel's digital scale and offset (the folded
     * batch norm's registers) refitted on calibration images so that the chip's outputs match
     * what its intended weights compute: "offset" corrects each channel's mean error,
     * "gain-offset" also its gain; "none" keeps the trained values.
     */
    channelCalibration: z
      .object({
        mode: z.enum(["none", "offset", "gain-offset"]),
        /** Calibration images the fit runs on (one batch through the programmed chip). */
        images: int(1, 4096),
      })
      .strict(),
    /** How the crossbar simulator computes (accuracy only; the hardware is the same). */
    simulator: z
      .object({
        /**
         * "auto": noisy devices run the fast path (src/xbar/collapse.ts) wherever it applies;
         * "exact": every DAC phase and device column is simulated.
         */
        path: z.enum(["auto", "exact"]),
      })
      .strict(),
    /** Where each number comes from, by field path (e.g. "conductance.gMax"). */
    sources: z.record(z.string(), z.string().min(3)),
  })
  .strict()
  .superRefine((c, ctx) => {
    const { gMin, gMax } = c.conductance;
    if (gMin !== null && gMax !== null && !(gMax > gMin))
      ctx.addIssue({ code: "custom", message: "gMax must exceed gMin", path: ["conductance", "gMax"] });
    if (c.adc.rowsPerRead !== null && c.adc.rowsPerRead > c.tile)
      ctx.addIssue({
        code: "custom",
        message: `reads at most the tile's ${c.tile} rows; set null to read them all at once`,
        path: ["adc", "rowsPerRead"],
      });
    if (c.adc.rowsPerRead !== null && c.analogChain.enabled)
      ctx.addIssue({
        code: "custom",
        message:
          "the parallel analog platform reads every row at once (no converter per array to take partial sums); set null",
        path: ["adc", "rowsPerRead"],
      });
    if (c.channelCalibration.mode !== "none" && c.analogChain.enabled)
      ctx.addIssue({
        code: "custom",
        message:
          'the parallel analog platform has no digital scale and offset per channel to refit (its neurons are analog); set "none"',
        path: ["channelCalibration", "mode"],
      });
  });

type ConfigInput = z.infer<typeof HardwareConfigSchema>;

/** A resolved configuration: the conductance range is a number (from the technology file where not set). */
export type HardwareConfig = Omit<ConfigInput, "conductance"> & {
  readonly conductance: { readonly gMin: number; readonly gMax: number; readonly cellBits: number };
};

/** A configuration with its technology: everything the cost model and the simulator read. */
export interface Hardware {
  readonly config: HardwareConfig;
  readonly tech: Tech;
  readonly techFile: TechFile;
}

export const PRESETS = ["default", "fp32", "int8", "rram", "rram-robust", "pcm", "analog-chain"] as const;
export type PresetName = (typeof PRESETS)[number];
/** The hardware that cost commands price when no preset is given. */
export const DEFAULT_PRESET = "default";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A user's configuration file; a missing or malformed one is a ConfigError naming it. */
function readJson(path: string): unknown {
  try {
    return readUserJson(path);
  } catch (e) {
    if (e instanceof FileReadError) throw new ConfigError(`hardware config ${e.message}`);
    throw e;
  }
}

function presetJson(name: string): Record<string, unknown> {
  const json = readShippedJson(`presets/${name}.json`);
  if (!isObject(json)) throw new ConfigError(`preset file presets/${name}.json is missing from the package`);
  return json;
}

/** Fields that older configurations set and that are now computed from priced components or moved. */
const DERIVED: Record<string, string> = {
  "device.reramReadNoise": "it is the reram model's own parameter now: set device.params.readNoise",
  "analogChain.tiaNoise":
    "it is computed from the amplifier: set analogChain.amplifierBandwidth, or analog.amplifier.inputNoise in the technology file",
  "analogChain.saturation":
    "it is computed from the amplifier's output swing: set analogChain.calibratedSwing (saturation = 1 / calibratedSwing)",
};

/** Validates a raw configuration and fills the conductance range from its technology file. */
export function parseHardwareConfig(raw: unknown, origin = "(inline)"): HardwareConfig {
  const r = HardwareConfigSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const path = i.path.join(".");
      const keys = i.code === "unrecognized_keys" ? i.keys.map((k) => (path ? `${path}.${k}` : k)) : [];
      const derived = keys.find((k) => DERIVED[k]);
      if (derived) return `  ${derived}: no longer a setting; ${DERIVED[derived]}`;
      return `  ${path || "(top level)"}: ${i.message}`;
    });
    throw new ConfigError(
      `invalid hardware config ${origin}:\n${lines.join("\n")}\nFix these fields (presets/default.json lists every field with its meaning).`,
    );
  }
  const c = r.data;
  const { tech } = loadTech(c.tech);
  const gMin = c.conductance.gMin ?? 1e6 / tech.cell.rOff;
  const gMax = c.conductance.gMax ?? 1e6 / tech.cell.rOn;
  if (!(gMax > gMin))
    throw new ConfigError(
      `invalid hardware config ${origin}:\n  conductance.gMax: ${gMax} µS must exceed gMin ${gMin} µS (one of them comes from technology '${c.tech}')`,
    );
  return { ...c, conductance: { ...c.conductance, gMin, gMax } };
}

/** Deep merge of configuration JSON (objects field by field). */
export const mergeConfig = mergeJson;

/** The raw (unvalidated) fields of a preset: the default with the preset's overrides. */
function presetFields(name: string): Record<string, unknown> {
  const defaults = presetJson(DEFAULT_PRESET);
  return mergeConfig(defaults, presetOverrides(name)) as Record<string, unknown>;
}

/**
 * The fields a preset changes against the default: its file's, on top of those of the preset
 * its `base` names (a preset that builds on another lists only what it adds).
 */
export function presetOverrides(name: string): Record<string, unknown> {
  if (!(PRESETS as readonly string[]).includes(name))
    throw new ConfigError(`unknown preset '${name}'; choose one of ${PRESETS.join(", ")}`);
  if (name === DEFAULT_PRESET) return {};
  const { base, ...own } = presetJson(name);
  if (base === undefined) return own;
  if (typeof base !== "string" || base === name)
    throw new ConfigError(`preset '${name}': 'base' must name another preset`);
  return mergeConfig(presetOverrides(base), own) as Record<string, unknown>;
}

export function loadPreset(name: string): HardwareConfig {
  return parseHardwareConfig(presetFields(name), `preset '${name}'`);
}

/**
 * The configuration of a run: a preset, optionally overridden by a JSON file whose `base`
 * (default: the preset given) names the preset it starts from, and by a technology name.
 */
export function resolveHardwareConfig(preset: string, configFile?: string, tech?: string): HardwareConfig {
  let raw: Record<string, unknown>;
  let origin = `preset '${preset}'`;
  if (configFile) {
    const file = readJson(configFile);
    if (!isObject(file)) throw new ConfigError(`hardware config ${configFile} must be a JSON object`);
    const { base, ...over } = file;
    if (base !== undefined && typeof base !== "string")
      throw new ConfigError(`hardware config ${configFile}: 'base' must be a preset name`);
    const start = presetFields(base ?? preset);
    raw = mergeConfig(start, { name: `${start.name}+${configFile}`, ...over }) as Record<string, unknown>;
    origin = configFile;
  } else raw = presetFields(preset);
  if (tech) raw = { ...raw, tech };
  return parseHardwareConfig(raw, origin);
}

/** The configuration with its technology loaded. */
export function hardwareOf(config: HardwareConfig): Hardware {
  const { tech, file } = loadTech(config.tech);
  return { config, tech, techFile: file };
}

/** A configuration that the cost model can price: fp32 describes no hardware. */
export function requireHardware(config: HardwareConfig): Hardware {
  if (!config.quantize)
    throw new ConfigError(
      `preset ${config.name} is the float network and describes no hardware; price one of ${PRESETS.filter((p) => p !== "fp32").join(", ")} (default without --preset)`,
    );
  return hardwareOf(config);
}

/** The platform a configuration describes. */
export type Platform = "digital-periphery" | "parallel-analog";
export function platformOf(c: HardwareConfig): Platform {
  return c.analogChain.enabled ? "parallel-analog" : "digital-periphery";
}

/** Devices a weight magnitude is sliced over. */
export function slicesPerWeight(c: Pick<HardwareConfig, "weightBits" | "conductance">): number {
  return Math.ceil((c.weightBits - 1) / c.conductance.cellBits);
}

/** Physical columns per logical weight column: a differential pair (G+, G−) per slice. */
export function columnsPerWeight(c: Pick<HardwareConfig, "weightBits" | "conductance">): number {
  return 2 * slicesPerWeight(c);
}

/** Devices per weight (`layout.weightCopies`, `layout.depthwiseWeightCopies`) of a depthwise or a dense layer. */
export function weightCopiesOf(c: Pick<HardwareConfig, "layout">, depthwise: boolean): number {
  return depthwise ? (c.layout.depthwiseWeightCopies ?? c.layout.weightCopies) : c.layout.weightCopies;
}

/**
 * How the arrays are programmed, driven and read: as configured, except on the parallel analog
 * platform (one analog phase in, pairs subtracted in analog, no conversion out).
 */
export function arrayConfig(c: HardwareConfig): HardwareConfig {
  if (!c.analogChain.enabled) return c;
  return {
    ...c,
    dac: { ...c.dac, mode: "multi-bit" },
    adc: { ...c.adc, bits: null, pairSubtraction: "analog" },
  };
}

/** Physical columns behind one ADC input: 2 when a pair's currents are subtracted in analog. */
export function columnsPerReadout(c: HardwareConfig): number {
  return arrayConfig(c).adc.pairSubtraction === "analog" ? 2 : 1;
}

/** One line per part of the hardware, as printed with every result. */
export function describeConfig(c: HardwareConfig): string {
  const d = c.device;
  const noise = [
    d.programmingNoise && "programming noise",
    d.readNoise && "read noise",
    d.drift && `drift at ${d.time} s (global compensation)`,
    d.deviceToDevice > 0 && `device-to-device σ ${d.deviceToDevice}`,
    d.stuckAtRate > 0 && `stuck-at ${d.stuckAtRate}`,
  ].filter(Boolean);
  const g = `G ${+c.conductance.gMin.toPrecision(4)}–${+c.conductance.gMax.toPrecision(4)} µS`;
  const a = c.analogChain;
  if (a.enabled)
    return [
      `  parallel analog: the image through a ${c.inputBits}-bit DAC, analog neurons of ${a.amplifierBandwidth} MHz after every layer (calibrated range at ${a.calibratedSwing} of their swing), no ADC between layers; classifier ADC ${a.finalAdcBits === null ? "lossless" : `${a.finalAdcBits}-bit`}; spatial parallelism ${a.spatialParallelism}`,
      `  weights ${c.weightBits}-bit per output channel, calibration ${c.calibration.method} on ${c.calibration.images} training images`,
      `  tiles ${c.tile}×${c.tile}, ${c.conductance.cellBits}-bit cells in differential pairs (currents subtracted in analog), ${g}; technology ${c.tech}`,
      `  devices ${d.model}${noise.length ? `: ${noise.join(", ")}` : ""}`,
    ].join("\n");
  return [
    `  weights ${c.weightBits}-bit per output channel, activations ${c.inputBits}-bit per tensor (${c.calibration.method}${c.calibration.method === "percentile" ? ` ${c.calibration.percentile}` : ""} on ${c.calibration.images} training images)`,
    `  tiles ${c.tile}×${c.tile}, ${c.conductance.cellBits}-bit cells in differential pairs, ${g}; technology ${c.tech}`,
    `  DAC ${c.dac.mode}${c.dac.mode === "bit-serial" ? ` (signed inputs ${c.dac.signedInputs})` : ""}, ADC ${c.adc.bits === null ? "lossless" : `${c.adc.bits}-bit ${c.adc.range}`} (${c.adc.columnsPerAdc} columns per ADC, pairs subtracted ${c.adc.pairSubtraction === "analog" ? "in analog before a bipolar ADC" : "digitally"})`,
    `  devices ${d.model}${noise.length ? `: ${noise.join(", ")}` : ""}${copies(c)}`,
  ].join("\n");
}

/** The devices per weight, when more than one. */
function copies(c: HardwareConfig): string {
  const dense = weightCopiesOf(c, false);
  const depthwise = weightCopiesOf(c, true);
  if (dense === 1 && depthwise === 1) return "";
  return dense === depthwise
    ? `; ${dense} devices per weight`
    : `; ${dense} devices per weight (${depthwise} in depthwise layers)`;
}
