// The per-code read-back error that hardware-aware fine-tuning trains on (measureWeightNoise),
// for the noisy presets: RMS and mean error in weight codes at selected codes.
// Usage: node --import tsx bench/accuracy/code-errors.ts > bench/accuracy/results/rram-investigation/code-errors.json
import { loadPreset, resolveHardwareConfig } from "../../src/hw/config.js";
import { codeErrorRms, measureWeightNoise } from "../../src/train/hardware-aware.js";

const CODES = [0, 1, 2, 4, 8, 15, 16, 17, 32, 64, 100, 127];
// The rram preset with every weight on 2 devices: what averaging does to the error per code.
const configs = {
  rram: () => loadPreset("rram"),
  "rram-weight-copies-2": () => resolveHardwareConfig("rram", "bench/accuracy/ablation/rram-weight-copies-2.json"),
  pcm: () => loadPreset("pcm"),
};
const out: Record<string, unknown> = { command: "node --import tsx bench/accuracy/code-errors.ts" };
for (const [name, config] of Object.entries(configs)) {
  const noise = measureWeightNoise(config());
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
