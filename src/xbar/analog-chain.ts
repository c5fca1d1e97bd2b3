/**
 * Analog chain mode, the style of the parallel analog platforms: no ADC between layers. Only
 * the image passes a DAC; every later layer's rows are driven by the analog voltages of the
 * layer before (modelled as 16-bit codes over the calibrated range, i.e. continuous), the
 * pair's currents are subtracted and the row tiles' currents summed in analog, and a TIA
 * turns each output current into the next voltage, adding its own noise and saturating.
 * ReLU (a diode clamp), pooling and node sums are ideal analog periphery. One ADC converts
 * the classifier's outputs. Device noise (programming, drift, read noise per read) comes
 * from the same arrays and device models as every other mode.
 */
import { Rng } from "../util/rng.js";
import { deriveSeed } from "../util/seed.js";
import type { SimConfig } from "./config.js";
import { roundHalfAway } from "./quantize.js";

/** Resolution that stands in for a continuous voltage on a layer's rows. */
export const ANALOG_VOLTAGE_BITS = 16;

/**
 * How the arrays are programmed, driven and read: as configured, except in the analog chain
 * (one analog phase in, no conversion out).
 */
export function arrayConfig(cfg: SimConfig): SimConfig {
  if (!cfg.analogChain.enabled) return cfg;
  return {
    ...cfg,
    dac: { mode: "multi-bit" },
    adc: { ...cfg.adc, bits: null, pairSubtraction: "analog" },
  };
}

/**
 * The TIA after a layer, applied in place to outputs y ([n, perImage], real units): Gaussian
 * noise of σ = tiaNoise × full scale, saturation at ±full scale, where full scale is
 * `saturation` × the layer's calibrated output range; at the classifier, the final ADC
 * (bipolar, `finalAdcBits`) over the same full scale. Image `imageOffset + i` draws from its
 * own stream, so results do not depend on the batch.
 */
export function tiaOutput(
  y: Float32Array,
  n: number,
  outRange: number,
  cfg: SimConfig["analogChain"],
  seed: number,
  imageOffset: number,
  final: boolean,
): void {
  const perImage = y.length / n;
  const full = cfg.saturation * outRange;
  const sigma = cfg.tiaNoise * full;
  const bits = final ? cfg.finalAdcBits : null;
  const codeMax = bits === null ? 0 : 2 ** (bits - 1) - 1;
  const lsb = bits === null ? 0 : full / codeMax;
  for (let i = 0; i < n; i++) {
    const rng = sigma > 0 ? new Rng(deriveSeed(seed, imageOffset + i)) : null;
    for (let e = i * perImage; e < (i + 1) * perImage; e++) {
      let v = y[e]! + (rng ? sigma * rng.normal() : 0);
      v = Math.min(full, Math.max(-full, v));
      if (bits !== null) v = Math.min(codeMax, Math.max(-codeMax - 1, roundHalfAway(v / lsb))) * lsb;
      y[e] = v;
    }
  }
}
