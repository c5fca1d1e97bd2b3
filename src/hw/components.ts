/**
 * Circuit components of the cost model, each from the technology file: energy in pJ,
 * area in µm², latency in ns. Composed bottom-up into op designs (as NeuroSim composes
 * SubArray → Tile → Chip).
 */
import type { Tech } from "./tech.js";

export function cellAreaUm2(t: Tech): number {
  const f = t.node / 1000; // µm
  return t.cell.areaF2 * f * f;
}

export function arrayAreaUm2(t: Tech, tile: number): number {
  return tile * tile * cellAreaUm2(t) * t.array.wiringAreaFactor;
}

/** Average cell conductance (S): the midpoint of the programmable range (assumption: weights spread over it). */
export function meanConductance(t: Tech): number {
  return (1 / t.cell.rOn + 1 / t.cell.rOff) / 2;
}

/** Energy of reading one cell for one pulse (pJ): V²·G·t, with NeuroSim's energy calibration. */
export function cellReadEnergyPj(t: Tech): number {
  return t.cell.readVoltage ** 2 * meanConductance(t) * t.cell.readPulse * 1e-9 * 1e12 * t.array.energyFactor;
}

/** Sensing time of one array read (ns), with NeuroSim's latency calibration. */
export function arrayReadNs(t: Tech): number {
  return t.cell.readPulse * t.array.sensingLatencyFactor;
}

/** SAR ADC: latency (log2 L + 1)·τ, power a·log2 L + b (NeuroSim SarADC.cpp). */
export function adcConversionNs(t: Tech, bits: number): number {
  return (bits + 1) * t.adc.latencyPerBit;
}

export function adcEnergyPj(t: Tech, bits: number): number {
  return ((t.adc.powerSlope * bits + t.adc.powerOffset) * adcConversionNs(t, bits)) / 1000;
}

export function adcAreaUm2(t: Tech, bits: number): number {
  return t.adc.areaPerBit * bits;
}

/** One 1-bit DAC driving one row for one input-bit cycle (pJ). */
export function dacEnergyPj(t: Tech): number {
  return (t.dac.power * (1 / t.dac.rate)) / 1000;
}

export function addEnergyPj(t: Tech, bits: number): number {
  return t.digital.addEnergyPerBit * bits;
}

export function compareEnergyPj(t: Tech, bits: number): number {
  return t.digital.comparatorEnergyPerBit * bits;
}

/** Write-verify programming of one device: pulses × (V_w²/R·t_w + a verify read). */
export function programEnergyPj(t: Tech): number {
  const write = t.cell.writeVoltage ** 2 * meanConductance(t) * t.cell.writePulse * 1e-9 * 1e12;
  return t.cell.writeVerifyPulses * (write + cellReadEnergyPj(t));
}

export function programRowNs(t: Tech): number {
  return t.cell.writeVerifyPulses * (t.cell.writePulse + arrayReadNs(t));
}

export function cycleNs(t: Tech): number {
  return 1 / t.clock;
}
