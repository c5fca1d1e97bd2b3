/** The costs a search can minimise beside accuracy, and the result field and unit of each. */
export const COST_OBJECTIVES = ["latency", "energy", "area"] as const;
export type CostObjective = (typeof COST_OBJECTIVES)[number];

export const COST_UNITS: Record<CostObjective, { field: string; unit: string }> = {
  latency: { field: "latencyUs", unit: "µs" },
  energy: { field: "energyUj", unit: "µJ" },
  area: { field: "areaMm2", unit: "mm²" },
};
