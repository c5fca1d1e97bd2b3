/**
 * The parallel analog platform in the simulator: no ADC between layers. Only the image passes
 * a DAC; every later layer's rows are driven by the analog voltages of the layer before
 * (modelled as 16-bit codes over the calibrated range, i.e. continuous), the pair's currents
 * are subtracted and the row tiles' currents summed in analog, and an analog neuron turns each
 * output current into the next voltage, adding its own noise and saturating. A window over
 * earlier rows reads them from sample-and-hold line buffers (kT/C noise, droop). ReLU,
 * pooling and node sums are ideal analog periphery. One ADC bank converts the logits. Device
 * noise (programming, drift, read noise per read) comes from the same arrays and device
 * models as every other mode.
 *
 * The neurons' noise and saturation and the hold cells' noise and droop are not settings:
 * they follow from the components the cost model prices (the technology file's analog.* and
 * the configuration's amplifier bandwidth and calibrated swing).
 */
import { kernels } from "../engine/kernels/index.js";
import * as c from "../hw/components.js";
import type { HardwareConfig } from "../hw/config.js";
import { loadTech, type Tech } from "../hw/tech.js";
import { deriveSeed } from "../util/seed.js";
import { roundHalfAway } from "./quantize.js";

/** Resolution that stands in for a continuous voltage on a layer's rows. */
export const ANALOG_VOLTAGE_BITS = 16;

/** What an analog neuron does to a layer's outputs, from the priced amplifier. */
export interface NeuronReadout {
  /** Output noise σ relative to the neuron's full scale (its output swing). */
  readonly noise: number;
  /** Full scale in units of the layer's calibrated output range (1 / calibratedSwing). */
  readonly saturation: number;
  /** Bits of the ADC bank at the logits (null: lossless). */
  readonly finalAdcBits: number | null;
}

/** The neurons' noise and saturation of a configuration, from its technology file. */
export function neuronReadout(cfg: HardwareConfig, tech: Tech = loadTech(cfg.tech).tech): NeuronReadout {
  const a = cfg.analogChain;
  return {
    noise: c.amplifierNoiseRelative(tech, a.amplifierBandwidth),
    saturation: 1 / a.calibratedSwing,
    finalAdcBits: a.finalAdcBits,
  };
}

/**
 * The neuron after a layer, applied in place to outputs y ([n, perImage], real units):
 * Gaussian noise of σ = noise × full scale, saturation at ±full scale, where full scale is
 * `saturation` × the layer's calibrated output range; at the classifier, the final ADC
 * (bipolar, `finalAdcBits`) over the same full scale. Image `imageOffset + i` draws from its
 * own stream, so results do not depend on the batch.
 */
export function tiaOutput(
  y: Float32Array,
  n: number,
  outRange: number,
  readout: NeuronReadout,
  seed: number,
  imageOffset: number,
  final: boolean,
): void {
  const perImage = y.length / n;
  const full = readout.saturation * outRange;
  const sigma = readout.noise * full;
  const bits = final ? readout.finalAdcBits : null;
  const codeMax = bits === null ? 0 : 2 ** (bits - 1) - 1;
  const lsb = bits === null ? 0 : full / codeMax;
  const z = new Float32Array(perImage);
  for (let i = 0; i < n; i++) {
    if (sigma > 0) kernels().fillNormals(deriveSeed(seed, imageOffset + i), z);
    for (let e = i * perImage, k = 0; k < perImage; e++, k++) {
      let v = y[e]! + sigma * z[k]!;
      v = Math.min(full, Math.max(-full, v));
      if (bits !== null) v = Math.min(codeMax, Math.max(-codeMax - 1, roundHalfAway(v / lsb))) * lsb;
      y[e] = v;
    }
  }
}

/** What a line buffer's sample-and-hold cells do to the values a window reads. */
export interface HoldReadout {
  /** kT/C noise σ relative to full scale. */
  readonly noise: number;
  /** Droop of the longest-held value toward zero, relative to full scale. */
  readonly droop: number;
}

/**
 * The hold cells of a window that spans `haloRows` earlier rows of a `width`-wide map, each
 * position `cyclesPerPosition` cycles of `cycleNs` apart: the oldest value waits
 * haloRows·width positions.
 */
export function holdReadout(
  tech: Tech,
  haloRows: number,
  width: number,
  cyclesPerPosition: number,
  cycleNs: number,
): HoldReadout {
  const holdNs = haloRows * width * cyclesPerPosition * cycleNs;
  return { noise: c.holdNoiseRelative(tech), droop: c.holdDroopPerNs(tech) * holdNs };
}

/**
 * A copy of a layer's input x ([n, perImage]) as its line buffer delivers it: every value
 * droops toward zero by `droop` × full scale (never past it) and gets kT/C noise. Image
 * `imageOffset + i` draws from its own stream.
 */
export function heldInput(
  x: Float32Array,
  n: number,
  fullScale: number,
  hold: HoldReadout,
  seed: number,
  imageOffset: number,
): Float32Array {
  const out = new Float32Array(x.length);
  const perImage = x.length / n;
  const sigma = hold.noise * fullScale;
  const droop = hold.droop * fullScale;
  const z = new Float32Array(perImage);
  for (let i = 0; i < n; i++) {
    kernels().fillNormals(deriveSeed(seed, imageOffset + i), z);
    for (let e = i * perImage, k = 0; k < perImage; e++, k++) {
      const v = x[e]!;
      const drooped = v > 0 ? Math.max(0, v - droop) : Math.min(0, v + droop);
      out[e] = drooped + sigma * z[k]!;
    }
  }
  return out;
}
