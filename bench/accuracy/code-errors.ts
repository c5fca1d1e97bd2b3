// The per-code read-back error that hardware-aware fine-tuning trains on (measureWeightNoise),
// for the noisy presets: RMS and mean error in weight codes at selected codes.
// Usage: node --import tsx bench/accuracy/code-errors.ts > bench/accuracy/results/rram-investigation/code-errors.json
import { loadPreset } from "../../src/hw/config.js";
import { codeErrorRms, measureWeightNoise } from "../../src/train/hardware-aware.js";

const CODES = [0, 1, 2, 4, 8, 15, 16, 17, 32, 64, 100, 127];
const presets = ["rram", "rram-robust", "pcm"] as const;
const out: Record<string, unknown> = { command: "node --import tsx bench/accuracy/code-errors.ts" };
for (const name of presets) {
  const noise = measureWeightNoise(loadPreset(name));
  const wMax = 2 ** (noise.weightBits - 1) - 1;
  const mean = (code: number): number => {
    let s = 0;
    for (let k = 0; k < noise.samples; k++) s += noise.errors[(code + wMax) * noise.samples + k]!;
    return s / noise.samples;
  };
  out[name] = {
    samplesPerCode: noise.samples,
    relativeSigma: noise.sigma,
    codes: CODES.map((code) => ({ code, rms: codeErrorRms(noise, code), mean: mean(code) })),
  };
}
console.log(JSON.stringify(out, null, 1));
