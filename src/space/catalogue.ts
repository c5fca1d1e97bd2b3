/** Lookup of named genotypes (case-insensitive, with aliases). */
import { CATALOGUE, type CatalogueEntry } from "./catalogue-data.js";
import type { Genotype } from "./genotype.js";
import { parseGenotype } from "./parse.js";
import { editDistance } from "./primitives.js";

export { CATALOGUE, type CatalogueEntry };

const BY_KEY = new Map<string, CatalogueEntry>();
for (const entry of CATALOGUE) {
  for (const key of [entry.name, ...entry.aliases]) BY_KEY.set(key.toLowerCase(), entry);
}
const PARSED = new Map<string, Genotype>();

export function findCatalogueEntry(name: string): CatalogueEntry | undefined {
  return BY_KEY.get(name.trim().toLowerCase());
}

export function catalogueGenotype(name: string): Genotype {
  const entry = findCatalogueEntry(name);
  if (!entry) {
    const near = [...BY_KEY.keys()].sort(
      (a, b) => editDistance(name.toLowerCase(), a) - editDistance(name.toLowerCase(), b),
    )[0];
    throw new Error(
      `unknown genotype name '${name}'; did you mean '${BY_KEY.get(near!)!.name}'? ('memhyper space list' shows all)`,
    );
  }
  let g = PARSED.get(entry.name);
  if (!g) {
    g = parseGenotype(entry.text);
    PARSED.set(entry.name, g);
  }
  return g;
}
