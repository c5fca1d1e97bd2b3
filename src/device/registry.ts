/**
 * The device models by name: what `device.model` may name, the schema of the model's own
 * parameters (`device.params`) and how to build it. The hardware configuration validates both
 * here, and the simulator builds its devices from here, so a new device model is its class and
 * one `registerDeviceModel` call.
 */
import { z } from "zod";
import { type DeviceModel, IdealDevice, PcmDevice, ReramDevice } from "./models.js";

/** The model-independent stages a configuration switches (device.programmingNoise, …). */
export interface DeviceStages {
  readonly programming: boolean;
  readonly drift: boolean;
  readonly read: boolean;
}

export interface DeviceModelEntry<P = unknown> {
  readonly name: string;
  /** One line for help and error messages. */
  readonly description: string;
  /** The model's own parameters (device.params): a strict object; absent fields take its defaults. */
  readonly params: z.ZodType<P>;
  create(gMax: number, stages: DeviceStages, params: P): DeviceModel;
}

const entries = new Map<string, DeviceModelEntry>();

/** Adds a device model; its name must be new. */
export function registerDeviceModel<P>(entry: DeviceModelEntry<P>): void {
  if (entries.has(entry.name)) throw new Error(`device model '${entry.name}' is already registered`);
  entries.set(entry.name, entry as DeviceModelEntry);
}

export function deviceModelNames(): string[] {
  return [...entries.keys()];
}

export function deviceModelEntry(name: string): DeviceModelEntry | undefined {
  return entries.get(name);
}

/** Builds the named model with its parameters (validated, defaults filled). */
export function createDeviceModel(
  name: string,
  gMax: number,
  stages: DeviceStages,
  params: Record<string, unknown>,
): DeviceModel {
  const entry = entries.get(name);
  if (!entry) throw new Error(`unknown device model '${name}'; registered: ${deviceModelNames().join(", ")}`);
  return entry.create(gMax, stages, entry.params.parse(params));
}

registerDeviceModel({
  name: "ideal",
  description: "devices store exactly their target; reads are exact",
  params: z.object({}).strict(),
  create: (gMax) => new IdealDevice(gMax),
});

registerDeviceModel({
  name: "pcm",
  description:
    "aihwkit PCMLikeNoiseModel (Nandakumar et al.): programming noise, power-law drift, 1/f read noise",
  params: z.object({}).strict(),
  create: (gMax, stages) => new PcmDevice(gMax, stages),
});

registerDeviceModel({
  name: "reram",
  description:
    "aihwkit ReRamWan2022NoiseModel (Wan et al. 2022): programming noise and its evolution over time",
  params: z
    .object({
      /** Relative read noise σ/G (the Wan et al. data has no 1/f fit). */
      readNoise: z.number().min(0).max(1).default(0),
    })
    .strict(),
  create: (gMax, stages, p) => new ReramDevice(gMax, p.readNoise, stages),
});
