/** Options shared by the commands that build a network and price hardware. */
import { type Command, Option } from "commander";
import {
  DEFAULT_PRESET,
  type Hardware,
  PRESETS,
  requireHardware,
  resolveHardwareConfig,
} from "../hw/config.js";
import type { Network } from "../ir/graph.js";
import { buildNetwork } from "../ir/network.js";
import { type LoadedNet, loadNetFile } from "../net/load.js";
import { type Architecture, resolveArchitecture } from "../space/architecture.js";
import { parseIntOption, UsageError } from "./output.js";

export interface NetOptions {
  genotype: string;
  channels: number;
  layers: number;
  json?: boolean;
}

export function addNetOptions(cmd: Command, defaults = { channels: 16, layers: 8 }): Command {
  return addSizeOptions(
    cmd.requiredOption(
      "--genotype <arch>",
      "catalogue name, Genotype(...) string, 21-hex-digit code, or file",
    ),
    defaults,
  );
}

/** --channels, --layers and --json. */
export function addSizeOptions(cmd: Command, defaults = { channels: 16, layers: 8 }): Command {
  return cmd
    .option("--channels <C>", "initial channels C", parseIntOption("channels", 2, 4096), defaults.channels)
    .option("--layers <L>", "number of cells L", parseIntOption("layers", 3, 1000), defaults.layers)
    .option("--json", "print one JSON object");
}

export interface HardwareOptions {
  preset: string;
  config?: string;
  tech?: string;
}

/** The hardware options of every cost command: a preset, an override file, a technology. */
export function addHardwareOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--preset <p>", "hardware preset (presets/<p>.json; fp32 describes no hardware)")
        .choices(PRESETS)
        .default(DEFAULT_PRESET),
    )
    .option("--config <file>", "JSON file overriding preset fields (its 'base' names the preset)")
    .option(
      "--tech <file>",
      "technology (overrides the configuration's): neurosim-22nm, mnsim-130nm, or a JSON file",
    );
}

/** The priced hardware of a command's options (rejects fp32). */
export function hardwareFromOptions(o: HardwareOptions): Hardware {
  return requireHardware(resolveHardwareConfig(o.preset, o.config, o.tech));
}

export interface NetSourceOptions {
  genotype?: string;
  net?: string;
  channels: number;
  layers: number;
  json?: boolean;
}

/** A network to describe or price: a DARTS-space architecture (--genotype) or a plain network file (--net). */
export function addNetSourceOptions(cmd: Command, defaults = { channels: 16, layers: 8 }): Command {
  return addSizeOptions(
    cmd
      .option("--genotype <arch>", "catalogue name, Genotype(...) string, 21-hex-digit code, or file")
      .option("--net <file>", "a plain network: JSON layer list (docs/networks.md) or ONNX model (.onnx)"),
    defaults,
  );
}

export interface NetSource {
  /** What the network is called in reports. */
  readonly label: string;
  /** How the network was given, for JSON output. */
  readonly describe: Record<string, unknown>;
  readonly network: Network;
  /** A plain network file, when that is what was given. */
  readonly file: LoadedNet | null;
  /** The DARTS-space architecture, when that is what was given. */
  readonly arch: Architecture | null;
}

export function resolveNetSource(o: NetSourceOptions): NetSource {
  if ((o.genotype === undefined) === (o.net === undefined))
    throw new UsageError(
      "give exactly one of --genotype (a DARTS-space architecture) and --net (a network file)",
    );
  if (o.net !== undefined) {
    const file = loadNetFile(o.net);
    return {
      label: file.description.name,
      describe: { net: file.description.name, file: o.net },
      network: file.network,
      file,
      arch: null,
    };
  }
  const arch = resolveArchitecture(o.genotype!);
  return {
    label: arch.label,
    describe: { architecture: arch.label, code: arch.code, channels: o.channels, cells: o.layers },
    network: buildNetwork(arch, { channels: o.channels, layers: o.layers }),
    file: null,
    arch,
  };
}
