/**
 * memhyper's browser-safe library entry: the search space, the network IR, the hardware
 * configuration, the cost model of both platforms and the hypernetwork, with no file system,
 * native addon or dataset. A page hands over the shipped presets and technology files
 * (`provideShippedFiles`) and then computes what the CLI computes, with the same code.
 * `test/browser-entry.test.ts` checks that nothing it imports needs Node.
 */

// One hardware description.
export {
  ConfigError,
  columnsPerWeight,
  DEFAULT_PRESET,
  type Hardware,
  type HardwareConfig,
  hardwareOf,
  loadPreset,
  PRESETS,
  type PresetName,
  platformOf,
  requireHardware,
} from "./hw/config.js";
// Cost model (both platforms) and the whole-space evaluator.
export { type CostReport, costNetwork } from "./hw/cost.js";
export { COMPONENT_KINDS, type ComponentKind } from "./hw/designs.js";
export { type ArrayPlacement, placeWeights, shapeOfNode, type WeightShape } from "./hw/mapping.js";
export { type PeripheryComponentEntry, registerPeripheryComponent } from "./hw/periphery.js";
export { SpaceCostModel } from "./hw/space-cost.js";
export { SHIPPED_TECH } from "./hw/tech.js";
// The all-inclusive hypernetwork.
export { type CompiledConfiguration, compileConfiguration, type SlotSetting } from "./hyper/compiler.js";
export {
  compareDeployments,
  type HyperComparison,
  hardwareCost,
  hyperCost,
  individualPools,
  peripheryPools,
} from "./hyper/cost.js";
export { type HyperSpec, hyperHardware, VARIANTS } from "./hyper/hardware.js";
export { configuredNetwork, fullNetwork } from "./hyper/network.js";
export { countMacs, countParams } from "./ir/count.js";
// Network IR.
export type { IrNode, Network } from "./ir/graph.js";
export { buildNetwork } from "./ir/network.js";
// Result files of a search: its cost objectives and their fields.
export { COST_UNITS, type CostObjective } from "./search/cost-units.js";
// Search space.
export {
  type Architecture,
  architectureFromConfiguration,
  architectureFromGenotype,
  resolveArchitecture,
} from "./space/architecture.js";
export { CATALOGUE } from "./space/catalogue.js";
export { CELL_EDGES, CELL_TYPES, type CellType, type Configuration, EDGES_PER_CELL } from "./space/cell.js";
export {
  codeHexDigits,
  decodeConfiguration,
  encodeConfiguration,
  isConfigurationCode,
} from "./space/code.js";
export { formatGenotype } from "./space/format.js";
export { configurationToGenotype } from "./space/genotype.js";
export {
  numOps,
  type OpIndex,
  type OpName,
  type OpSpec,
  opSpec,
  PRIMITIVES,
  registerOp,
} from "./space/primitives.js";
// Shipped files for a runtime without a file system.
export { provideShippedFiles } from "./util/files.js";
