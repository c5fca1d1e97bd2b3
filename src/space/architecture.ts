/**
 * An architecture as the rest of memhyper sees it: a genotype (DARTS naming of ops) or an
 * edge-complete configuration (ops named by edge), always with its configuration when
 * one exists. `resolveArchitecture` accepts whatever a user types on the command line.
 */

import { isUserFile, readUserText } from "../util/files.js";
import { catalogueGenotype, findCatalogueEntry } from "./catalogue.js";
import type { Configuration } from "./cell.js";
import { decodeConfiguration, encodeConfiguration, isConfigurationCode } from "./code.js";
import { type Genotype, genotypeToConfiguration } from "./genotype.js";
import { parseGenotype } from "./parse.js";

export interface Architecture {
  /** Catalogue name, file name, or the configuration code. */
  readonly label: string;
  readonly genotype: Genotype | null;
  /** Null for genotypes the edge-complete view cannot hold (two ops on one edge, other concat). */
  readonly configuration: Configuration | null;
  readonly code: string | null;
}

export function architectureFromGenotype(label: string, genotype: Genotype): Architecture {
  let configuration: Configuration | null = null;
  try {
    configuration = genotypeToConfiguration(genotype);
  } catch {
    configuration = null;
  }
  return { label, genotype, configuration, code: configuration ? encodeConfiguration(configuration) : null };
}

export function architectureFromConfiguration(configuration: Configuration): Architecture {
  const code = encodeConfiguration(configuration);
  return { label: code, genotype: null, configuration, code };
}

/** Name (case-insensitive) | 21-hex-digit code | path to a file holding a genotype | genotype string. */
export function resolveArchitecture(spec: string): Architecture {
  const text = spec.trim();
  if (findCatalogueEntry(text))
    return architectureFromGenotype(findCatalogueEntry(text)!.name, catalogueGenotype(text));
  if (isConfigurationCode(text)) return architectureFromConfiguration(decodeConfiguration(text));
  // A run of hex digits of the wrong length is a mistyped code, not a genotype: say so.
  if (/^(0x)?(?=[a-f]*\d)[0-9a-f]{10,40}$/i.test(text)) decodeConfiguration(text);
  if (isUserFile(text)) return fromFile(text);
  if (/^[A-Za-z_]\w*$/.test(text)) {
    return architectureFromGenotype(text, catalogueGenotype(text)); // throws "unknown genotype name ... did you mean"
  }
  return architectureFromGenotype("custom", parseGenotype(text));
}

function fromFile(path: string): Architecture {
  const content = readUserText(path).trim();
  const label = path.split(/[\\/]/).pop() ?? path;
  if (isConfigurationCode(content))
    return { ...architectureFromConfiguration(decodeConfiguration(content)), label };
  return architectureFromGenotype(label, parseGenotype(content));
}
