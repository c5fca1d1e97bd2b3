/**
 * Programming a layer onto its arrays: every weight becomes a differential pair per slice
 * (src/xbar/conductance.ts), every device goes through the configured non-idealities
 * (programming noise, drift to the inference time, device-to-device variation, stuck-at
 * faults), and the result is packed for the crossbar kernel in level units
 * u = (G − Gmin) / step, with each device's read-noise variance beside it; with analog pair
 * subtraction a pair packs as one column u+ − u−.
 */
import { type DeviceModel, deviceToDevice, stuckAt } from "../device/models.js";
import { createDeviceModel } from "../device/registry.js";
import type { XbarLayer } from "../engine/kernels/types.js";
import { type HardwareConfig, weightCopiesOf } from "../hw/config.js";
import { type ArrayPlacement, dacPhases } from "../hw/mapping.js";
import { concatFloat32 } from "../util/arrays.js";
import type { Rng } from "../util/rng.js";
import { type ConductanceMap, levelStep, levels, pairDigit, slices } from "./conductance.js";
import { codeRange, holdsWeight, type LogicalLayer, logicalRows, logicalWeight } from "./layout.js";

/** Everything of an XbarLayer except what depends on the batch. */
export type ProgrammedLayer = Omit<XbarLayer, "geom" | "seed" | "imageOffset"> & {
  readonly layer: LogicalLayer;
  /** Devices whose conductance a fault pinned. */
  readonly faults: number;
  /** Physical devices programmed (both devices of every pair, every slice, off-diagonal blocks included). */
  readonly devices: number;
  /**
   * Integer weights as float32 in the engine's layout, when the layer runs as an exact integer
   * convolution of its input codes (see exactIntegerLayer); null on crossbar tiles.
   */
  readonly direct: Float32Array | null;
};

export function deviceModel(cfg: HardwareConfig): DeviceModel {
  const d = cfg.device;
  const stages = { programming: d.programmingNoise, drift: d.drift, read: d.readNoise };
  return createDeviceModel(d.model, cfg.conductance.gMax, stages, d.params);
}

/** True when devices store exactly their target and reads are exact. */
export function devicesAreIdeal(cfg: HardwareConfig): boolean {
  const d = cfg.device;
  return (
    (d.model === "ideal" || (!d.programmingNoise && !d.readNoise && !d.drift)) &&
    d.deviceToDevice === 0 &&
    d.stuckAtRate === 0
  );
}

export function conductanceMap(cfg: HardwareConfig): ConductanceMap {
  return { ...cfg.conductance, weightBits: cfg.weightBits };
}

/** The largest value one DAC phase applies to a row. */
function phaseMax(planes: Int32Array): number {
  let m = 0;
  for (let i = 0; i < planes.length; i += 3) m = Math.max(m, planes[i + 2]!);
  return m;
}

/** Physical arrays on devices: differential pairs per slice, through the device model. */
export function programLayer(
  layer: LogicalLayer,
  placements: readonly ArrayPlacement[],
  cfg: HardwareConfig,
  rng: Rng,
): ProgrammedLayer {
  const map = conductanceMap(cfg);
  const S = slices(map);
  const L = levels(map);
  const step = levelStep(map);
  const device = deviceModel(cfg);
  const ideal = devicesAreIdeal(cfg);
  const analog = cfg.adc.pairSubtraction === "analog";
  const t = cfg.device.time;
  const copies = weightCopiesOf(cfg, layer.depthwise);
  const packed: ArrayColumns[] = [];
  const varParts: Float32Array[] = [];
  let faults = 0;
  let devices = 0;
  let programmed = 0;
  let drifted = 0;
  for (const a of placements) {
    const nr = a.rows.length;
    const nc = a.outputs.length * S * 2;
    // Target level of every device, column-major (column j, row i → j·nr + i).
    const digits = new Float32Array(nc * nr);
    // Devices at cross-points that cannot hold a weight, left unformed (device.offBlockDevices).
    const unformed =
      cfg.device.offBlockDevices === "unformed" && layer.depthwise ? new Uint8Array(nc * nr) : null;
    const colOut: number[] = [];
    const colWeight: number[] = [];
    let j = 0;
    for (const o of a.outputs) {
      for (let s = 0; s < S; s++) {
        for (const sign of [1, -1] as const) {
          for (let i = 0; i < nr; i++) {
            digits[j * nr + i] = pairDigit(logicalWeight(layer, a.rows[i]!, o), s, sign, L);
            if (unformed && !holdsWeight(layer, a.rows[i]!, o)) unformed[j * nr + i] = 1;
          }
          colOut.push(o);
          // A column adds `copies` devices of each weight: their mean is the weight.
          colWeight.push((sign * L ** s) / copies);
          j++;
        }
      }
    }
    let u = digits;
    let variance = new Float32Array(0);
    if (!ideal) {
      const target = digits.map((d) => map.gMin + d * step);
      let g = device.drift(device.program(target, rng), target, t, rng);
      // After the draws, so that every other device gets the same ones either way.
      if (cfg.device.gMinDevicesExact)
        for (let e = 0; e < g.length; e++) if (digits[e] === 0) g[e] = map.gMin;
      if (unformed) for (let e = 0; e < g.length; e++) if (unformed[e]) g[e] = map.gMin;
      g = deviceToDevice(g, cfg.device.deviceToDevice, rng);
      const stuck = stuckAt(g, cfg.device.stuckAtRate, map.gMin, map.gMax, cfg.device.stuckAtLowShare, rng);
      g = stuck.g;
      faults += stuck.faults;
      u = g.map((v) => (v - map.gMin) / step);
      for (let e = 0; e < g.length; e++) {
        programmed += digits[e]!;
        drifted += u[e]!;
      }
      if (cfg.device.readNoise)
        variance = target.map((tg, e) => (device.readSigma(g[e]!, tg, t) / step) ** 2);
    }
    if (analog) {
      const pair = subtractPairs(u, variance, nr, colOut, colWeight);
      packed.push({ rows: a.rows, ...pair });
      varParts.push(pair.variance);
    } else {
      packed.push({ rows: a.rows, colOut, colWeight, g: u });
      varParts.push(variance);
    }
    devices += nc * nr;
  }
  // Global drift compensation (as aihwkit's): one digital gain per layer that restores the
  // total conductance the layer was programmed with, read once through a reference input.
  const compensation = cfg.device.drift && !ideal && drifted > 0 && programmed > 0 ? programmed / drifted : 1;
  // Gmin currents cancel in an analog subtraction; a unipolar ADC sees them.
  const g0 = analog ? 0 : map.gMin / step;
  const { planes, planeWeight } = dacPhases(
    cfg.dac.mode,
    layer.inputBits,
    layer.inSigned,
    cfg.dac.signedInputs,
  );
  const bits = cfg.adc.bits;
  const adcMax = bits === null ? 0 : analog ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const adcMin = bits === null || !analog ? 0 : -(2 ** (bits - 1));
  // Full-scale ADC range: every driven row at its largest input, every (positive) device at Gmax.
  const adcLsb = Float32Array.from(placements, (a) =>
    bits === null ? 0 : (a.rows.length * phaseMax(planes) * (L - 1 + g0)) / adcMax,
  );
  return {
    layer,
    faults,
    devices,
    direct: null,
    inScale: layer.inScale,
    reluIn: layer.reluIn,
    ...codeRange(layer),
    ...packArrays(packed),
    readVar: cfg.device.readNoise && !ideal ? concatFloat32(varParts) : null,
    adcLsb,
    adcMin,
    adcMax,
    g0,
    planes,
    planeWeight,
    outScale: Float64Array.from(layer.wScale, (w) => w * layer.inScale * compensation),
    outBias: layer.bias,
  };
}

/**
 * The integer reference computed fast: ideal devices and lossless converters make the
 * crossbar a plain integer matrix product. When every partial sum of an output stays below
 * 2^24, float32 arithmetic on integer codes and weights is exact in any order, so the layer
 * runs as the engine's convolution on its input codes (`direct`); otherwise as one signed
 * multi-bit phase over signed weights in row chunks small enough to stay exact. Both equal
 * the tile path bit for bit (tested).
 */
export function exactIntegerLayer(layer: LogicalLayer): ProgrammedLayer {
  const { codeMin, codeMax } = codeRange(layer);
  const wMax = 2 ** (layer.weightBits - 1) - 1;
  const chunk = Math.max(1, Math.floor((2 ** 24 - 1) / (Math.max(-codeMin, codeMax) * wMax)));
  const perOutput = (layer.geom.c / layer.geom.groups) * layer.geom.k * layer.geom.k;
  const direct = perOutput <= chunk ? Float32Array.from(layer.q) : null;
  const kk = layer.geom.k * layer.geom.k;
  const placements: ArrayPlacement[] = [];
  if (layer.depthwise) {
    for (let o = 0; o < layer.geom.oc; o++)
      placements.push({
        rows: Int32Array.from({ length: kk }, (_, i) => o * kk + i),
        outputs: Int32Array.of(o),
      });
  } else {
    const R = logicalRows(layer);
    const all = Int32Array.from({ length: layer.geom.oc }, (_, o) => o);
    for (let r0 = 0; r0 < R; r0 += chunk)
      placements.push({
        rows: Int32Array.from({ length: Math.min(R, r0 + chunk) - r0 }, (_, i) => r0 + i),
        outputs: all,
      });
  }
  const packed = placements.map((a): ArrayColumns => {
    const nr = a.rows.length;
    const g = new Float32Array(a.outputs.length * nr);
    a.outputs.forEach((o, j) => {
      for (let i = 0; i < nr; i++) g[j * nr + i] = logicalWeight(layer, a.rows[i]!, o);
    });
    return { rows: a.rows, colOut: [...a.outputs], colWeight: a.outputs.map(() => 1), g };
  });
  return {
    layer,
    faults: 0,
    devices: 0,
    direct,
    inScale: layer.inScale,
    reluIn: layer.reluIn,
    codeMin,
    codeMax,
    ...packArrays(packed),
    readVar: null,
    adcLsb: new Float32Array(placements.length),
    adcMin: 0,
    adcMax: 0,
    g0: 0,
    planes: Int32Array.of(0, 0, 2 ** 30 - 1),
    planeWeight: Float32Array.of(1),
    outScale: Float64Array.from(layer.wScale, (w) => w * layer.inScale),
    outBias: layer.bias,
  };
}

/**
 * Analog pair subtraction: the current of each pair's G− column is subtracted from its G+
 * column before conversion, so the pair reads as one signed column (u+ − u−) whose read-noise
 * variance is the sum of both devices'. Columns arrive as (+, −) neighbours.
 */
function subtractPairs(
  u: Float32Array,
  variance: Float32Array,
  nr: number,
  colOut: readonly number[],
  colWeight: readonly number[],
): { colOut: number[]; colWeight: number[]; g: Float32Array; variance: Float32Array } {
  const pairs = colOut.length / 2;
  const g = new Float32Array(pairs * nr);
  const v = new Float32Array(variance.length ? pairs * nr : 0);
  for (let k = 0; k < pairs; k++)
    for (let i = 0; i < nr; i++) {
      const pos = 2 * k * nr + i;
      g[k * nr + i] = u[pos]! - u[pos + nr]!;
      if (v.length) v[k * nr + i] = variance[pos]! + variance[pos + nr]!;
    }
  return {
    colOut: colOut.filter((_, j) => j % 2 === 0),
    colWeight: colWeight.filter((_, j) => j % 2 === 0),
    g,
    variance: v,
  };
}

/** One array's driven rows and its physical columns (conductances column-major, j·nr + i). */
interface ArrayColumns {
  readonly rows: Int32Array;
  readonly colOut: ArrayLike<number>;
  readonly colWeight: ArrayLike<number>;
  readonly g: Float32Array;
}

/** Packs arrays into the flat offset tables of XbarLayer. */
function packArrays(
  arrays: readonly ArrayColumns[],
): Pick<XbarLayer, "arrays" | "rowOff" | "rows" | "colOff" | "colOut" | "colWeight" | "gOff" | "g"> {
  const rowOff = [0];
  const colOff = [0];
  const gOff = [0];
  for (const a of arrays) {
    rowOff.push(rowOff.at(-1)! + a.rows.length);
    colOff.push(colOff.at(-1)! + a.colOut.length);
    gOff.push(gOff.at(-1)! + a.g.length);
  }
  return {
    arrays: arrays.length,
    rowOff: Int32Array.from(rowOff),
    rows: Int32Array.from(arrays.flatMap((a) => [...a.rows])),
    colOff: Int32Array.from(colOff),
    colOut: Int32Array.from(arrays.flatMap((a) => Array.from(a.colOut))),
    colWeight: Float32Array.from(arrays.flatMap((a) => Array.from(a.colWeight))),
    gOff: Int32Array.from(gOff),
    g: concatFloat32(arrays.map((a) => a.g)),
  };
}
