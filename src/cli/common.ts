/** Options shared by the commands that build a network. */
import type { Command } from "commander";
import { parseIntOption } from "./output.js";

export interface NetOptions {
  genotype: string;
  channels: number;
  layers: number;
  json?: boolean;
}

export function addNetOptions(cmd: Command, defaults = { channels: 16, layers: 8 }): Command {
  return cmd
    .requiredOption("--genotype <arch>", "catalogue name, Genotype(...) string, 21-hex-digit code, or file")
    .option("--channels <C>", "initial channels C", parseIntOption("channels", 2, 4096), defaults.channels)
    .option("--layers <L>", "number of cells L", parseIntOption("layers", 3, 1000), defaults.layers)
    .option("--json", "print one JSON object");
}
