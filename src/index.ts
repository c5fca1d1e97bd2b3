/**
 * memhyper's library entry: the search space, the network IR, the hardware configuration,
 * the cost model of both platforms, the crossbar simulator and the hypernetwork. The CLI
 * (`memhyper`) is a thin shell over these.
 */

export { loadSplit, resolveDataDir, type Split, take } from "./data/cifar10.js";
// Engine and weights.
export { Model } from "./engine/model.js";
export { loadModelWeights, saveModel } from "./engine/safetensors.js";
export { Tensor } from "./engine/tensor.js";
// One hardware description.
export {
  ConfigError,
  DEFAULT_PRESET,
  type Hardware,
  type HardwareConfig,
  hardwareOf,
  loadPreset,
  PRESETS,
  platformOf,
  requireHardware,
  resolveHardwareConfig,
} from "./hw/config.js";
// Cost model (both platforms) and whole-space sweeps.
export { type CostReport, costNetwork } from "./hw/cost.js";
export { type ArrayPlacement, dacPhases, placeWeights, shapeOfNode } from "./hw/mapping.js";
export { SpaceCostModel } from "./hw/space-cost.js";
export { sweep } from "./hw/sweep.js";
export { loadTech, type Tech, TechError } from "./hw/tech.js";
// The all-inclusive hypernetwork.
export { compileConfiguration } from "./hyper/compiler.js";
export { compareDeployments, hyperCost } from "./hyper/cost.js";
export { hyperSimulator } from "./hyper/deploy.js";
export { type HyperSpec, hyperHardware, VARIANTS } from "./hyper/hardware.js";
export { reconfigure } from "./hyper/reconfigure.js";
export { countMacs, countParams } from "./ir/count.js";
// Network IR.
export type { IrNode, Network } from "./ir/graph.js";
export { buildNetwork, type NetworkOptions } from "./ir/network.js";
// Search space: architectures by name, genotype or 84-bit code; counts; seeded samples.
export {
  type Architecture,
  architectureFromConfiguration,
  architectureFromGenotype,
  resolveArchitecture,
} from "./space/architecture.js";
export { CATALOGUE } from "./space/catalogue.js";
export { edgeCompleteViewCount, genotypeViewCount } from "./space/count.js";
export { type SpaceView, sampleConfiguration, sampleGenotype } from "./space/sample.js";
export { Rng } from "./util/rng.js";
// Crossbar simulator and accuracy on hardware.
export { hardwareAccuracy } from "./xbar/accuracy.js";
export { CrossbarSimulator } from "./xbar/simulator.js";
