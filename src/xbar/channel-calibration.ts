/**
 * Per-channel gain and offset calibration after programming: each output channel's digital
 * scale and offset registers (the folded batch norm, already on the periphery) are refitted so
 * that the programmed chip's outputs match, in the least-squares sense, what its intended
 * integer weights compute on the same inputs. A programmed column's error Σ δᵢ·xᵢ has a
 * chip-specific mean (post-ReLU inputs have a positive mean) and a part proportional to the
 * output; the fit removes both, and nothing else.
 */

/** Per-channel correction ideal ≈ gain·actual + offset. */
export interface ChannelCorrection {
  readonly gain: Float64Array;
  readonly offset: Float64Array;
}

/**
 * Least-squares fit per channel of `ideal` on `actual`, both laid out [n, channels, positions].
 * `mode` "offset" keeps the gain at 1. A channel whose outputs do not vary gets gain 1.
 */
export function fitChannelCorrection(
  actual: Float32Array,
  ideal: Float32Array,
  n: number,
  channels: number,
  positions: number,
  mode: "offset" | "gain-offset",
): ChannelCorrection {
  const gain = new Float64Array(channels).fill(1);
  const offset = new Float64Array(channels);
  const m = n * positions;
  for (let c = 0; c < channels; c++) {
    let sa = 0;
    let si = 0;
    for (let b = 0; b < n; b++) {
      const at = (b * channels + c) * positions;
      for (let p = 0; p < positions; p++) {
        sa += actual[at + p]!;
        si += ideal[at + p]!;
      }
    }
    const ma = sa / m;
    const mi = si / m;
    if (mode === "gain-offset") {
      let saa = 0;
      let sai = 0;
      for (let b = 0; b < n; b++) {
        const at = (b * channels + c) * positions;
        for (let p = 0; p < positions; p++) {
          const da = actual[at + p]! - ma;
          saa += da * da;
          sai += da * (ideal[at + p]! - mi);
        }
      }
      if (saa > 0) gain[c] = sai / saa;
    }
    offset[c] = mi - gain[c]! * ma;
  }
  return { gain, offset };
}
