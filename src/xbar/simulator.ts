/**
 * A trained network on simulated crossbars. Calibration runs the float network on training
 * images and fixes every weight layer's integer weights and input scale; `program(trial)`
 * puts the weights on fresh devices (a new seed per trial) and, for a calibrated ADC, sets
 * each array's range from its largest column current on the calibration images; `executor`
 * then runs the weight layers on those arrays while pooling, adds and concatenation stay in
 * the digital periphery (the engine's float ops).
 */
import { kernels } from "../engine/kernels/index.js";
import type { XbarLayer } from "../engine/kernels/types.js";
import type { MatmulExecutor, Model } from "../engine/model.js";
import * as ops from "../engine/ops.js";
import { Tensor } from "../engine/tensor.js";
import { tapSpan } from "../hw/analog-designs.js";
import {
  arrayConfig,
  columnsPerWeight,
  type HardwareConfig,
  hardwareOf,
  weightCopiesOf,
} from "../hw/config.js";
import { costNetwork } from "../hw/cost.js";
import type { ArrayPlacement } from "../hw/mapping.js";
import type { Tech } from "../hw/tech.js";
import type { ConvNode, LinearNode } from "../ir/graph.js";
import { concatFloat32 } from "../util/arrays.js";
import { Rng } from "../util/rng.js";
import { deriveSeed } from "../util/seed.js";
import {
  ANALOG_VOLTAGE_BITS,
  heldInput,
  holdReadout,
  type NeuronReadout,
  neuronReadout,
  tiaOutput,
} from "./analog-chain.js";
import { fitChannelCorrection } from "./channel-calibration.js";
import { collapse, simulationPath } from "./collapse.js";
import { individualLayout, type LayerGeometry, type LogicalLayer } from "./layout.js";
import { devicesAreIdeal, exactIntegerLayer, type ProgrammedLayer, programLayer } from "./program.js";
import { calibrate, quantizeWeights } from "./quantize.js";

/** Up to this many |x| samples per layer feed the percentile calibration. */
const CALIBRATION_SAMPLES = 1 << 18;

interface LayerRecord {
  node: ConvNode | LinearNode;
  geom: LayerGeometry;
  weight: Float32Array;
  bias: Float32Array | null;
  reluIn: boolean;
  samples: Float32Array[];
  max: number;
  outMax: number;
  /** The layer reads the network's input image (the only DAC of the analog chain). */
  imageInput: boolean;
}

/** The geometry of a weight layer given its input (a linear layer is a 1×1 convolution). */
function geometryOf(node: ConvNode | LinearNode, x: Tensor): LayerGeometry {
  if (node.kind === "linear")
    return {
      c: node.inF,
      h: 1,
      w: 1,
      oc: node.outF,
      k: 1,
      stride: 1,
      pad: 0,
      dil: 1,
      groups: 1,
      oh: 1,
      ow: 1,
    };
  return {
    c: x.shape[1]!,
    h: x.shape[2]!,
    w: x.shape[3]!,
    oc: node.outC,
    k: node.k,
    stride: node.stride,
    pad: node.pad,
    dil: node.dilation,
    groups: node.groups,
    oh: node.shape.h,
    ow: node.shape.w,
  };
}

/** The parallel analog platform's components as the simulator applies them. */
interface AnalogState {
  readonly neurons: NeuronReadout;
  readonly tech: Tech;
  readonly cycleNs: number;
}

/** Where a layer's weights sit: its arrays, and the identity of its devices (seeds their randomness). */
export interface Mapping {
  layout(layer: LogicalLayer): ArrayPlacement[];
  deviceKey(layer: LogicalLayer): number;
}

/** Individual deployment: each layer on arrays of its own (`individualLayout`). */
export function individualMapping(cfg: HardwareConfig): Mapping {
  const cpw = columnsPerWeight(cfg);
  return {
    layout: (l) => individualLayout(l, cfg.tile, cpw, cfg.adc.rowsPerRead, weightCopiesOf(cfg, l.depthwise)),
    deviceKey: (l) => l.id,
  };
}

export class CrossbarSimulator {
  readonly layers = new Map<number, LogicalLayer>();
  private programmed = new Map<number, ProgrammedLayer>();
  private trialSeed = 0;
  /** Index of the first image of the next batch (read-noise streams are per image). */
  imageOffset = 0;

  constructor(
    readonly model: Model,
    readonly cfg: HardwareConfig,
    readonly mapping: Mapping = individualMapping(cfg),
  ) {
    if (!cfg.quantize) throw new Error("the fp32 preset runs the float network; it needs no simulator");
  }

  /**
   * Fixes integer weights and input scales from the float network on calibration images.
   * `weightRanges` (by parameter name) gives channels the range of a larger tensor they are
   * part of (a 3×3 kernel in the centre of its unit's 5×5), so they get its integers.
   */
  calibrate(images: Tensor, batch = 128, weightRanges?: ReadonlyMap<string, Float32Array>): this {
    const records = new Map<number, LayerRecord>();
    const percentile = this.cfg.calibration.method === "percentile";
    const recorder: MatmulExecutor = {
      conv: (node, x, reluIn, weight, bias, out) => {
        const y = ops.conv2d(null, x, weight, node, out, reluIn, bias);
        record(
          records,
          node,
          x,
          reluIn,
          weight.data,
          bias,
          y,
          node.input === this.model.net.input,
          percentile,
        );
        return y;
      },
      linear: (node, x, weight, bias) => {
        const y = ops.linear(null, x, weight, bias);
        record(records, node, x, false, weight.data, bias?.data ?? null, y, false, percentile);
        return y;
      },
    };
    const { cfg } = this;
    const chain = cfg.analogChain.enabled;
    forEachBatch(images, batch, (x) => this.model.forward(x, { training: false, executor: recorder }));
    for (const [id, r] of records) {
      const signed = !r.reluIn;
      const method =
        cfg.calibration.method === "max"
          ? ({ kind: "max" } as const)
          : ({ kind: "percentile", percentile: cfg.calibration.percentile } as const);
      // The maximum sees every value; the percentile a strided subsample.
      // In the analog chain only the image passes a DAC; other rows see analog voltages up to
      // the saturation of the TIAs before them.
      const analogInput = chain && !r.imageInput;
      const inputBits = analogInput ? ANALOG_VOLTAGE_BITS : cfg.inputBits;
      const scale =
        calibrate(
          method.kind === "max" ? Float32Array.of(r.max) : concatFloat32(r.samples),
          inputBits,
          signed,
          method,
        ).scale * (analogInput ? this.analog.neurons.saturation : 1);
      const qw = quantizeWeights(r.weight, r.geom.oc, cfg.weightBits, weightRanges?.get(r.node.param));
      this.layers.set(id, {
        id,
        name: r.node.scope.path || r.node.param,
        geom: r.geom,
        depthwise: r.geom.groups > 1,
        q: qw.q,
        weightBits: cfg.weightBits,
        wScale: qw.scale,
        bias: r.bias,
        inScale: Math.fround(scale),
        inSigned: signed,
        reluIn: r.reluIn,
        inputBits,
        outRange: r.outMax,
      });
    }
    return this;
  }

  /** Takes integer weights and input scales fixed elsewhere (the hypernetwork gets its architecture's). */
  load(layers: ReadonlyMap<number, LogicalLayer>): void {
    this.layers.clear();
    for (const [id, l] of layers) this.layers.set(id, l);
  }

  /** How the arrays are programmed and read: the analog chain drives them with one analog phase and no ADC. */
  get arrayConfig(): HardwareConfig {
    return arrayConfig(this.cfg);
  }

  /**
   * Which path runs the programmed arrays: "fast" (collapsed, src/xbar/collapse.ts) or
   * "exact" (every phase and column; the integer path on ideal devices with a lossless ADC).
   */
  get path(): "fast" | "exact" {
    return simulationPath(this.cfg)!;
  }

  /** The exact integer path applies: ideal devices, lossless ADC. */
  get exactInteger(): boolean {
    return devicesAreIdeal(this.cfg) && this.arrayConfig.adc.bits === null;
  }

  /**
   * Programs fresh devices for trial `trial` (seeded by `seed`), and calibrates the ADC ranges
   * on the first `adc.calibrationImages` of `adcImages` when the preset asks for a calibrated ADC.
   */
  program(seed: number, trial: number, adcImages: Tensor | null, forceTiles = false): void {
    if (this.layers.size === 0) throw new Error("calibrate the simulator before programming it");
    this.trialSeed = deriveSeed(seed, trial);
    this.programmed.clear();
    const arrays = this.arrayConfig;
    for (const [id, l] of this.layers) {
      const p =
        this.exactInteger && !forceTiles
          ? exactIntegerLayer(l)
          : programLayer(
              l,
              this.mapping.layout(l),
              arrays,
              new Rng(deriveSeed(this.trialSeed, this.mapping.deviceKey(l), 0)),
            );
      this.programmed.set(id, p);
    }
    if (arrays.adc.bits !== null && arrays.adc.range === "calibrated") {
      if (!adcImages) throw new Error("a calibrated ADC needs calibration images");
      this.calibrateAdc(firstImages(adcImages, arrays.adc.calibrationImages));
    }
    if (this.path === "fast")
      for (const [id, p] of this.programmed) this.programmed.set(id, { ...p, collapsed: collapse(p) });
    const { mode, images } = this.cfg.channelCalibration;
    if (mode !== "none") {
      if (!adcImages) throw new Error("channel calibration needs calibration images");
      this.calibrateChannels(firstImages(adcImages, images), mode);
    }
  }

  /**
   * Refits every output channel's digital scale and offset on the programmed chip (in
   * forward order, so that each layer is fitted on inputs its corrected predecessors
   * produce) against its intended integer weights on the same inputs; one batch, on the
   * path inference runs.
   */
  private calibrateChannels(images: Tensor, mode: "offset" | "gain-offset"): void {
    const exec = this.executor(undefined, (node, p, input, y, n) => {
      const g = p.layer.geom;
      const ideal = new Float32Array(y.length);
      this.computeLayer(exactIntegerLayer(p.layer), input, n, ideal, null);
      const fit = fitChannelCorrection(y, ideal, n, g.oc, g.oh * g.ow, mode);
      const corrected: ProgrammedLayer = {
        ...p,
        outScale: Float64Array.from(p.outScale, (s, c) => s * fit.gain[c]!),
        outBias: Float32Array.from(fit.offset, (o, c) => fit.gain[c]! * (p.outBias?.[c] ?? 0) + o),
      };
      this.programmed.set(node.id, corrected);
      // Recomputed (same reads, same noise) as inference will compute it, for the next layers.
      this.computeLayer(corrected, input, n, y, null);
    });
    this.imageOffset = 0x50000000; // read-noise streams apart from the test images' and the ADC's
    this.model.forward(images, { training: false, executor: exec });
    this.imageOffset = 0;
  }

  private calibrateAdc(images: Tensor): void {
    const maxes = new Map<number, Float32Array>();
    const lossless = new Map<number, ProgrammedLayer>();
    for (const [id, p] of this.programmed) {
      maxes.set(id, new Float32Array(p.arrays));
      lossless.set(id, { ...p, adcLsb: new Float32Array(p.arrays) });
    }
    const saved = this.programmed;
    this.programmed = lossless;
    const exec = this.executor(maxes);
    this.imageOffset = 0x40000000; // read-noise streams apart from the test images'
    forEachBatch(images, 128, (x) => {
      this.model.forward(x, { training: false, executor: exec });
      this.imageOffset += x.shape[0]!;
    });
    this.programmed = saved;
    this.imageOffset = 0;
    for (const [id, p] of saved) {
      const m = maxes.get(id)!;
      for (let a = 0; a < p.arrays; a++) p.adcLsb[a] = m[a]! > 0 ? m[a]! / p.adcMax : 1;
    }
  }

  /**
   * The parallel analog platform's priced components as the simulator applies them: the
   * neurons' readout, the technology, and the cycle of this network (the cost model's).
   * Computed once, off the per-batch path.
   */
  private get analog(): AnalogState {
    if (!this.analogCache) {
      const hw = hardwareOf(this.cfg);
      this.analogCache = {
        neurons: neuronReadout(this.cfg, hw.tech),
        tech: hw.tech,
        cycleNs: costNetwork(this.model.net, hw).analog!.cycleNs,
      };
    }
    return this.analogCache;
  }
  private analogCache: AnalogState | null = null;

  /**
   * A layer's input as it reaches the arrays: on the parallel analog platform a window over
   * earlier rows reads them from sample-and-hold cells (noise and droop); the image, buffered
   * digitally before its DAC, and 1×1 windows are read as they are.
   */
  private lineBuffered(node: ConvNode | LinearNode, p: ProgrammedLayer, x: Tensor): Float32Array {
    if (
      !this.cfg.analogChain.enabled ||
      node.kind !== "conv" ||
      node.k === 1 ||
      node.input === this.model.net.input
    )
      return x.data;
    const { tech, cycleNs } = this.analog;
    const g = p.layer.geom;
    const image = this.model.net.nodes[this.model.net.input]!.shape;
    const perPosition = (image.h * image.w) / (g.h * g.w) / this.cfg.analogChain.spatialParallelism;
    const span = tapSpan({ k: g.k, ...(p.layer.taps ? { taps: p.layer.taps } : {}) });
    const hold = holdReadout(tech, (span.hi - span.lo) * g.dil, g.w, perPosition, cycleNs);
    const seed = deriveSeed(this.trialSeed, this.mapping.deviceKey(p.layer), 3);
    return heldInput(x.data, x.shape[0]!, p.inScale * p.codeMax, hold, seed, this.imageOffset);
  }

  /** Programmed state of a layer (after `program`). */
  programmedLayer(id: number): ProgrammedLayer | undefined {
    return this.programmed.get(id);
  }

  /**
   * Runs weight layers on the programmed arrays; `colMax`, when given, records ADC inputs;
   * `onOutput`, when given, sees (and may change) each layer's output before it moves on.
   */
  executor(
    colMax?: Map<number, Float32Array>,
    onOutput?: (
      node: ConvNode | LinearNode,
      p: ProgrammedLayer,
      input: Float32Array,
      y: Float32Array,
      n: number,
    ) => void,
  ): MatmulExecutor {
    const run = (node: ConvNode | LinearNode, x: Tensor, out?: Float32Array): Tensor => {
      const p = this.programmed.get(node.id);
      if (!p) throw new Error(`layer ${node.scope.path} was not calibrated and programmed`);
      const n = x.shape[0]!;
      const g = p.layer.geom;
      const size = n * g.oc * g.oh * g.ow;
      const y = out && out.length === size ? out : new Float32Array(size);
      const input = this.lineBuffered(node, p, x);
      this.computeLayer(p, input, n, y, colMax?.get(node.id) ?? null);
      onOutput?.(node, p, input, y, n);
      if (this.cfg.analogChain.enabled) {
        const seed = deriveSeed(this.trialSeed, this.mapping.deviceKey(p.layer), 2);
        tiaOutput(
          y,
          n,
          p.layer.outRange ?? 0,
          this.analog.neurons,
          seed,
          this.imageOffset,
          node.kind === "linear",
        );
      }
      const shape = node.kind === "linear" ? [n, g.oc] : [n, g.oc, g.oh, g.ow];
      return new Tensor(shape, y);
    };
    return {
      conv: (node, x, _reluIn, _w, _b, out) => run(node, x, out),
      linear: (node, x) => run(node, x),
    };
  }

  /** One weight layer's outputs on the arrays of `p` (or its direct integer product). */
  private computeLayer(
    p: ProgrammedLayer,
    input: Float32Array,
    n: number,
    y: Float32Array,
    colMax: Float32Array | null,
  ): void {
    const geom = { n, ...p.layer.geom };
    const k = kernels();
    if (p.direct) {
      const quant = { scale: p.inScale, reluIn: p.reluIn, lo: p.codeMin, hi: p.codeMax };
      k.convForwardQuantized(geom, input, p.direct, y, quant, p.outBias, p.outScale);
      return;
    }
    const layer: XbarLayer = {
      ...p,
      geom,
      seed: deriveSeed(this.trialSeed, this.mapping.deviceKey(p.layer), 1),
      imageOffset: this.imageOffset,
    };
    k.xbarForward(layer, input, y, colMax);
  }
}

function record(
  records: Map<number, LayerRecord>,
  node: ConvNode | LinearNode,
  x: Tensor,
  reluIn: boolean,
  weight: Float32Array,
  bias: Float32Array | null,
  y: Tensor,
  imageInput: boolean,
  percentile: boolean,
): void {
  let r = records.get(node.id);
  if (!r) {
    r = {
      node,
      geom: geometryOf(node, x),
      weight: weight.slice(),
      bias: bias ? bias.slice() : null,
      reluIn,
      samples: [],
      max: 0,
      outMax: 0,
      imageInput,
    };
    records.set(node.id, r);
  }
  const k = kernels();
  r.outMax = k.maxValue(y.data, true, r.outMax);
  const d = x.data;
  // Every value counts for the maximum; a strided subsample feeds the percentile.
  r.max = k.maxValue(d, !reluIn, r.max);
  if (!percentile) return;
  const stride = Math.max(1, Math.ceil(d.length / (CALIBRATION_SAMPLES / 4)));
  const s = new Float32Array(Math.ceil(d.length / stride));
  for (let i = 0, j = 0; i < d.length; i += stride, j++) s[j] = reluIn ? Math.max(0, d[i]!) : Math.abs(d[i]!);
  r.samples.push(s);
}

/** Images `at` … `at + count − 1` of a batch, as a view. */
function imagesAt(images: Tensor, at: number, count: number): Tensor {
  const per = images.size / images.shape[0]!;
  return new Tensor([count, ...images.shape.slice(1)], images.data.subarray(at * per, (at + count) * per));
}

/** The first `count` images of a batch (all of them if it holds fewer). */
function firstImages(images: Tensor, count: number): Tensor {
  return imagesAt(images, 0, Math.min(images.shape[0]!, count));
}

function forEachBatch(images: Tensor, batch: number, fn: (x: Tensor) => void): void {
  const n = images.shape[0]!;
  for (let at = 0; at < n; at += batch) fn(imagesAt(images, at, Math.min(batch, n - at)));
}
