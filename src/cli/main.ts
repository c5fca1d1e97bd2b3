/** The `memhyper` command line: a thin shell over the library. */
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { registerBench } from "./bench.js";
import { registerData } from "./data.js";
import { registerDemo } from "./demo.js";
import { registerExplore } from "./explore.js";
import { registerHw } from "./hw.js";
import { registerHyper } from "./hyper.js";
import { registerNet } from "./net.js";
import { registerWorker } from "./queue.js";
import { registerSearch } from "./search.js";
import { registerSpace } from "./space.js";
import { registerSupernet } from "./supernet.js";
import { registerTrain } from "./train.js";

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name("memhyper")
    .description(
      "DARTS-space architectures on simulated memristive crossbars: accuracy, hardware cost, hypernetwork",
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError("(run with --help for usage)");
  registerDemo(program);
  registerSpace(program);
  registerNet(program);
  registerTrain(program);
  registerSupernet(program);
  registerSearch(program);
  registerData(program);
  registerBench(program);
  registerHw(program);
  registerHyper(program);
  registerWorker(program);
  registerExplore(program);
  for (const cmd of allCommands(program)) cmd.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (help and version exit 0).
      return err.exitCode;
    }
    process.stderr.write(`memhyper: error: ${clipTokens((err as Error).message)}\n`);
    return 2;
  }
}

/** Longest quoted token an error message echoes whole. */
const TOKEN_CHARS = 80;

/**
 * Cuts every quoted token of a message to a readable length (a pasted 2,000-character code
 * is echoed by its head and tail and its length).
 */
export function clipTokens(message: string): string {
  return message.replace(/'([^'\n]{81,})'/g, (_, t: string) => {
    const half = TOKEN_CHARS / 2 - 2;
    return `'${t.slice(0, half)}…${t.slice(-half)}' (${t.length} characters)`;
  });
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}
