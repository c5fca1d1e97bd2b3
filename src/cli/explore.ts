/** `memhyper explore`: the hypernetwork in the browser (a local server for the page built from web/). */
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { startExplore } from "../explore/server.js";
import { parseIntOption } from "./output.js";

/** The built page: dist/web of the package (from dist/cli or src/cli alike). */
const WEB_DIR = fileURLToPath(new URL("../../dist/web", import.meta.url));

export function registerExplore(program: Command): void {
  program
    .command("explore")
    .description(
      "the hypernetwork in the browser: build an architecture by clicking, see its switch map, arrays and cost; serves the page locally until Ctrl-C",
    )
    .option("--port <p>", "port (0 picks a free one)", parseIntOption("port", 0, 65535), 8737)
    .option(
      "--host <h>",
      "address to listen on (loopback by default: the page is for this machine)",
      "127.0.0.1",
    )
    .option(
      "--results <dir>",
      "directory of result JSON (memhyper eval/hw sweep/hyper sweep/search --json) shown on the page",
    )
    .action(async (o: { port: number; host: string; results?: string }) => {
      const { app, url } = await startExplore({
        webDir: WEB_DIR,
        resultsDir: o.results ?? null,
        host: o.host,
        port: o.port,
      });
      process.stdout.write(`memhyper explore: open ${url} (Ctrl-C stops)\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          app.close().then(() => done());
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
