/**
 * How weights and activations are put on crossbars: tile size, bit widths, bit slicing,
 * converters. Shared by the cost model and the crossbar simulator, so cost and accuracy
 * describe the same hardware.
 */
export interface Deployment {
  /** Crossbar tile rows = columns. */
  readonly tile: number;
  /** Activation (input) bits, applied bit-serially by 1-bit DACs. */
  readonly inputBits: number;
  /** Weight bits including sign (symmetric, per output channel). */
  readonly weightBits: number;
  /** Bits one device holds (2^cellBits levels); magnitudes are sliced over devices. */
  readonly cellBits: number;
  readonly adcBits: number;
  /** ADC inputs sharing one ADC (changes cost, not values). */
  readonly columnsPerAdc: number;
  /**
   * "digital" (default): every device column is converted and pairs are subtracted in the
   * shift-add; "analog": a pair's currents are subtracted first, one bipolar conversion per pair.
   */
  readonly pairSubtraction?: "digital" | "analog";
}

export const DEFAULT_DEPLOYMENT: Deployment = {
  tile: 128,
  inputBits: 8,
  weightBits: 8,
  cellBits: 4,
  adcBits: 8,
  columnsPerAdc: 8,
};

/** Devices a weight magnitude is sliced over. */
export function slicesPerWeight(d: Deployment): number {
  return Math.ceil((d.weightBits - 1) / d.cellBits);
}

/** Physical columns per logical weight column: a differential pair (G+, G−) per slice. */
export function columnsPerWeight(d: Deployment): number {
  return 2 * slicesPerWeight(d);
}

/** Physical columns behind one ADC input: 2 when a pair's currents are subtracted in analog. */
export function columnsPerReadout(d: Deployment): number {
  return d.pairSubtraction === "analog" ? 2 : 1;
}
