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

/** A device's conductance range (µS), from the hardware configuration. */
export interface ConductanceRange {
  readonly gMin: number;
  readonly gMax: number;
}

/** Average cell conductance (S): the midpoint of the programmable range (assumption: weights spread over it). */
export function meanConductance(g: ConductanceRange): number {
  return ((g.gMin + g.gMax) / 2) * 1e-6;
}

/** Energy of reading one cell for `ns` (pJ, default one read pulse): V²·G·t, with NeuroSim's energy calibration. */
export function cellReadEnergyPj(t: Tech, g: ConductanceRange, ns = t.cell.readPulse): number {
  return t.cell.readVoltage ** 2 * meanConductance(g) * ns * 1e-9 * 1e12 * t.array.energyFactor;
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

/** One conversion of a multi-bit DAC (pJ): the 8-bit DAC's power at its rate, halved per bit fewer (MNSIM's table). */
export function multiBitDacEnergyPj(t: Tech, bits: number): number {
  return (t.dac.multiBitPower * 2 ** (bits - 8) * (1 / t.dac.rate)) / 1000;
}

export function multiBitDacAreaUm2(t: Tech, bits: number): number {
  return t.dac.multiBitArea * 2 ** (bits - 8);
}

export function addEnergyPj(t: Tech, bits: number): number {
  return t.digital.addEnergyPerBit * bits;
}

export function compareEnergyPj(t: Tech, bits: number): number {
  return t.digital.comparatorEnergyPerBit * bits;
}

/** Write-verify programming of one device: pulses × (V_w²/R·t_w + a verify read). */
export function programEnergyPj(t: Tech, g: ConductanceRange): number {
  const write = t.cell.writeVoltage ** 2 * meanConductance(g) * t.cell.writePulse * 1e-9 * 1e12;
  return t.cell.writeVerifyPulses * (write + cellReadEnergyPj(t, g));
}

export function programRowNs(t: Tech): number {
  return t.cell.writeVerifyPulses * (t.cell.writePulse + arrayReadNs(t));
}

export function cycleNs(t: Tech): number {
  return 1 / t.clock;
}

// ---- Circuits of the parallel analog platform ----

const BOLTZMANN_T = 1.380649e-23 * 300; // kT at 300 K (J)

/**
 * Transconductance an analog neuron needs (S): its gain-bandwidth product (closed-loop
 * bandwidth × noise gain) into its load, gm = 2π·C_L·GBW (CamJ's gm_id rule).
 */
export function amplifierGmS(t: Tech, bandwidthMHz: number): number {
  const a = t.analog.amplifier;
  return 2 * Math.PI * a.loadCapacitance * 1e-15 * a.noiseGain * bandwidthMHz * 1e6;
}

/** Static power of one analog neuron (mW): supply × bias current, Id = gm/(gm/Id) per branch. */
export function amplifierPowerMw(t: Tech, bandwidthMHz: number): number {
  const a = t.analog.amplifier;
  const amps = (amplifierGmS(t, bandwidthMHz) / a.gmOverId) * a.branches;
  return t.analog.supply * amps * 1e3;
}

/** Time constant of a single-pole amplifier of this closed-loop bandwidth (ns). */
export function amplifierTauNs(bandwidthMHz: number): number {
  return 1e3 / (2 * Math.PI * bandwidthMHz);
}

/**
 * Output noise of one analog neuron relative to its output swing: the input-referred density
 * integrated over the noise bandwidth π/2·BW of a single pole, times the noise gain.
 */
export function amplifierNoiseRelative(t: Tech, bandwidthMHz: number): number {
  const a = t.analog.amplifier;
  const volts = a.inputNoise * 1e-9 * Math.sqrt((Math.PI / 2) * bandwidthMHz * 1e6) * a.noiseGain;
  return volts / a.outputSwing;
}

/**
 * RC time constant of the path from one stage's amplifier to the next stage's input (ns):
 * `switches` pass gates in series, then a distributed wire of `wireUm`, into the load
 * (Elmore: each resistance times the capacitance downstream of it).
 */
export function stageRcNs(t: Tech, wireUm: number, switches: number): number {
  const { switch: sw, wire, amplifier } = t.analog;
  const cWire = wire.capacitance * wireUm; // fF
  const cLoad = amplifier.loadCapacitance; // fF
  const rWire = wire.resistance * wireUm; // Ω
  const tauFs = switches * sw.rOn * (switches * sw.capacitance + cWire + cLoad) + rWire * (cWire / 2 + cLoad);
  return tauFs * 1e-6; // Ω·fF = fs
}

/** Settling time of one analog stage (ns): the amplifier's and the wire's time constants, settled to the technology's count. */
export function stageSettleNs(t: Tech, bandwidthMHz: number, wireUm: number, switches: number): number {
  return (
    t.analog.amplifier.settlingTimeConstants * (amplifierTauNs(bandwidthMHz) + stageRcNs(t, wireUm, switches))
  );
}

/** kT/C noise of a hold capacitor relative to the amplifier's output swing. */
export function holdNoiseRelative(t: Tech): number {
  return Math.sqrt(BOLTZMANN_T / (t.analog.hold.capacitance * 1e-15)) / t.analog.amplifier.outputSwing;
}

/** Relative droop of a held value per ns: leakage current over the capacitor, against the swing. */
export function holdDroopPerNs(t: Tech): number {
  const { hold, amplifier } = t.analog;
  return ((hold.leakage * 1e-15) / (hold.capacitance * 1e-15) / amplifier.outputSwing) * 1e-9;
}

/** Static power of `count` analog switches, each leaking its off-current at the analog supply (mW). */
export function switchLeakageMw(t: Tech, count: number): number {
  return count * t.analog.switch.leakage * 1e-12 * t.analog.supply * 1e3;
}

/** Energy of charging a capacitance of `fF` to the analog supply (pJ): C·V² (CamJ's passive memory energy). */
export function chargeEnergyPj(t: Tech, fF: number): number {
  return fF * 1e-3 * t.analog.supply ** 2;
}

/** Side of a T×T array (µm), cells taken as squares of the cell area. */
export function arraySideUm(t: Tech, tile: number): number {
  return tile * Math.sqrt(cellAreaUm2(t) * t.array.wiringAreaFactor);
}

/** Series switches and pass gates per lane of an n-input MUX built as a binary tree. */
export function muxShape(inputs: number): { stages: number; switches: number } {
  if (inputs <= 1) return { stages: 1, switches: 1 }; // an on/off switch that opens the path
  return { stages: Math.ceil(Math.log2(inputs)), switches: 2 * (inputs - 1) };
}
