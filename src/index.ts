/**
 * memhyper's library entry: everything of the browser-safe entry (search space, network IR,
 * hardware configuration, cost model of both platforms, hypernetwork), and what needs Node:
 * the dataset, the engine and weights, the crossbar simulator, configuration files named by
 * path. The CLI (`memhyper`) is a thin shell over these.
 */

export * from "./browser.js";
export { loadSplit, resolveDataDir, type Split, take } from "./data/cifar10.js";
// Device models: the registry an extension adds its model to.
export type { DeviceModel, Programmed } from "./device/models.js";
export { type DeviceModelEntry, deviceModelNames, registerDeviceModel } from "./device/registry.js";
// Engine and weights.
export { Model } from "./engine/model.js";
export { loadModelWeights, saveModel } from "./engine/safetensors.js";
export { Tensor } from "./engine/tensor.js";
// Hardware configuration files, technology files, DAC phases and whole-space sweeps.
export { resolveHardwareConfig } from "./hw/config.js";
export { dacPhases } from "./hw/mapping.js";
export { sweep } from "./hw/sweep.js";
export { loadTech, type Tech, TechError } from "./hw/tech.js";
// The hypernetwork on the simulator, and reconfiguration.
export { hyperSimulator } from "./hyper/deploy.js";
export { reconfigure } from "./hyper/reconfigure.js";
export type { NetworkOptions } from "./ir/network.js";
// Space counts and seeded samples.
export { edgeCompleteViewCount, genotypeViewCount } from "./space/count.js";
export { type SpaceView, sampleConfiguration, sampleGenotype } from "./space/sample.js";
export { Rng } from "./util/rng.js";
// Crossbar simulator and accuracy on hardware.
export { hardwareAccuracy } from "./xbar/accuracy.js";
export { CrossbarSimulator } from "./xbar/simulator.js";
