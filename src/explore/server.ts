/**
 * The explorer's local server: the page built from web/ (static files) and one read-only API,
 * `GET /api/results`, the JSON files of a results directory (what `memhyper eval`, `hw sweep`,
 * `hyper sweep` and `search` print with --json), each parsed or with the reason it is not.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyInstance } from "fastify";

export interface ExploreOptions {
  /** The built page (dist/web). */
  readonly webDir: string;
  /** Directory of result JSON files; null: none. */
  readonly resultsDir: string | null;
  readonly host: string;
  readonly port: number;
}

export class ExploreError extends Error {
  override name = "ExploreError";
}

export interface ResultEntry {
  readonly name: string;
  readonly data?: unknown;
  readonly error?: string;
}

/** Largest result file read (a sweep's JSON is a few kB; anything this large is not one). */
const MAX_RESULT_BYTES = 16 * 1024 * 1024;

/** The JSON files under a directory (two levels deep), parsed; unreadable ones carry their error. */
export function readResults(dir: string): ResultEntry[] {
  const out: ResultEntry[] = [];
  const walk = (d: string, depth: number): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory() && depth < 2) walk(path, depth + 1);
      else if (st.isFile() && name.endsWith(".json")) {
        const rel = relative(dir, path).split("\\").join("/");
        if (st.size > MAX_RESULT_BYTES)
          out.push({ name: rel, error: `larger than ${MAX_RESULT_BYTES} bytes` });
        else
          try {
            out.push({ name: rel, data: JSON.parse(readFileSync(path, "utf8")) });
          } catch (e) {
            out.push({ name: rel, error: `not valid JSON (${(e as Error).message})` });
          }
      }
    }
  };
  walk(dir, 0);
  return out;
}

export function exploreApp(o: Pick<ExploreOptions, "webDir" | "resultsDir">): FastifyInstance {
  if (!existsSync(join(o.webDir, "index.html")))
    throw new ExploreError(
      `the explorer's page is not built (${join(o.webDir, "index.html")} is missing): run 'npm run build' in the memhyper folder`,
    );
  if (o.resultsDir !== null && !(existsSync(o.resultsDir) && statSync(o.resultsDir).isDirectory()))
    throw new ExploreError(`--results ${o.resultsDir}: no such directory; create it or name another one`);
  const app = Fastify({ logger: false });
  app.register(fastifyStatic, { root: resolve(o.webDir), index: "index.html" });
  app.get("/api/results", async () => ({
    dir: o.resultsDir,
    files: o.resultsDir === null ? [] : readResults(o.resultsDir),
  }));
  return app;
}

/** Starts the server; the URL it listens on. A port in use or a bad host is an ExploreError. */
export async function startExplore(o: ExploreOptions): Promise<{ app: FastifyInstance; url: string }> {
  const app = exploreApp(o);
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    await app.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new ExploreError(
        `port ${o.port} on ${o.host} is in use: choose another with --port (0 picks a free one)`,
      );
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND")
      throw new ExploreError(
        `cannot listen on host '${o.host}': use an address of this machine (default 127.0.0.1)`,
      );
    throw e;
  }
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  return { app, url: `http://${host}:${port}/` };
}
