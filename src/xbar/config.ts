/**
 * Simulator configuration: what the crossbar hardware does to a network's numbers. Shipped
 * presets live in presets/*.json, each number with its source; a user's JSON file names a
 * `base` preset and overrides any field. Unknown fields and bad values are rejected with
 * the path of the field and the fix.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const SimConfigSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    /** false: the float network as trained (fp32); nothing below applies. */
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
    dac: z.object({ mode: z.enum(["bit-serial", "multi-bit"]) }).strict(),
    adc: z
      .object({
        /** null: lossless conversion. */
        bits: int(1, 16).nullable(),
        range: z.enum(["calibrated", "full-scale"]),
        columnsPerAdc: int(1, 4096),
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
        gMin: z.number().min(0),
        gMax: z.number().positive(),
        cellBits: int(1, 8),
      })
      .strict()
      .refine((c) => c.gMax > c.gMin, { message: "gMax must exceed gMin", path: ["gMax"] }),
    device: z
      .object({
        model: z.enum(["ideal", "pcm", "reram"]),
        programmingNoise: z.boolean(),
        readNoise: z.boolean(),
        drift: z.boolean(),
        /** Seconds between programming and inference. */
        time: z.number().min(0),
        /** Relative read noise of the ReRAM model (its data has no 1/f fit). */
        reramReadNoise: z.number().min(0).max(1),
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
      })
      .strict(),
    analogChain: z
      .object({
        enabled: z.boolean(),
        /** Output noise of each TIA, relative to its full-scale output. */
        tiaNoise: z.number().min(0).max(1),
        /** Saturation of the analog signal, in units of the calibrated layer output range. */
        saturation: z.number().positive(),
        /** Bits of the one ADC at the classifier output (null: lossless). */
        finalAdcBits: int(1, 16).nullable(),
      })
      .strict(),
    /** Where each number comes from, by field path (e.g. "conductance.gMax"). */
    sources: z.record(z.string(), z.string().min(3)),
  })
  .strict();

export type SimConfig = z.infer<typeof SimConfigSchema>;

export const PRESETS = ["fp32", "int8", "rram", "pcm", "analog-chain"] as const;
export type PresetName = (typeof PRESETS)[number];

const PRESET_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../presets");

export class ConfigError extends Error {}

function readJson(path: string): unknown {
  if (!existsSync(path)) throw new ConfigError(`simulator config file not found: ${path}`);
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError(`simulator config ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function validate(raw: unknown, origin: string): SimConfig {
  const r = SimConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join(".") || "(top level)"}: ${i.message}`);
  throw new ConfigError(
    `invalid simulator config ${origin}:\n${lines.join("\n")}\nFix these fields (see presets/*.json for every field with its meaning).`,
  );
}

export function loadPreset(name: string): SimConfig {
  if (!(PRESETS as readonly string[]).includes(name))
    throw new ConfigError(`unknown preset '${name}'; choose one of ${PRESETS.join(", ")}`);
  return validate(readJson(join(PRESET_DIR, `${name}.json`)), `preset '${name}'`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge field by field, everything else replaces. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeConfig(base[k], v) : v;
  return out;
}

/**
 * The configuration of a run: a preset, optionally overridden by a JSON file whose `base`
 * (default: the preset given) names the preset it starts from.
 */
export function resolveSimConfig(preset: string, configFile?: string): SimConfig {
  if (!configFile) return loadPreset(preset);
  const raw = readJson(configFile);
  if (!isObject(raw)) throw new ConfigError(`simulator config ${configFile} must be a JSON object`);
  const { base, ...over } = raw;
  if (base !== undefined && typeof base !== "string")
    throw new ConfigError(`simulator config ${configFile}: 'base' must be a preset name`);
  const start = loadPreset(base ?? preset);
  const merged = mergeConfig(start, { name: `${start.name}+${configFile}`, ...over });
  return validate(merged, configFile);
}

/** One line per part of the hardware, as printed with every result. */
export function describeConfig(c: SimConfig): string {
  const d = c.device;
  const noise = [
    d.programmingNoise && "programming noise",
    d.readNoise && "read noise",
    d.drift && `drift at ${d.time} s (global compensation)`,
    d.deviceToDevice > 0 && `device-to-device σ ${d.deviceToDevice}`,
    d.stuckAtRate > 0 && `stuck-at ${d.stuckAtRate}`,
  ].filter(Boolean);
  const a = c.analogChain;
  if (a.enabled)
    return [
      `  analog chain: the image through a ${c.inputBits}-bit DAC, no ADC between layers; TIA noise ${a.tiaNoise} of full scale, saturation at ${a.saturation}× the calibrated output range; classifier ADC ${a.finalAdcBits === null ? "lossless" : `${a.finalAdcBits}-bit`}`,
      `  weights ${c.weightBits}-bit per output channel, calibration ${c.calibration.method} on ${c.calibration.images} training images`,
      `  tiles ${c.tile}×${c.tile}, ${c.conductance.cellBits}-bit cells in differential pairs (currents subtracted in analog), G ${c.conductance.gMin}–${c.conductance.gMax} µS`,
      `  devices ${d.model}${noise.length ? `: ${noise.join(", ")}` : ""}`,
    ].join("\n");
  return [
    `  weights ${c.weightBits}-bit per output channel, activations ${c.inputBits}-bit per tensor (${c.calibration.method}${c.calibration.method === "percentile" ? ` ${c.calibration.percentile}` : ""} on ${c.calibration.images} training images)`,
    `  tiles ${c.tile}×${c.tile}, ${c.conductance.cellBits}-bit cells in differential pairs, G ${c.conductance.gMin}–${c.conductance.gMax} µS`,
    `  DAC ${c.dac.mode}, ADC ${c.adc.bits === null ? "lossless" : `${c.adc.bits}-bit ${c.adc.range}`} (${c.adc.columnsPerAdc} columns per ADC, pairs subtracted ${c.adc.pairSubtraction === "analog" ? "in analog before a bipolar ADC" : "digitally"})`,
    `  devices ${d.model}${noise.length ? `: ${noise.join(", ")}` : ""}`,
  ].join("\n");
}
