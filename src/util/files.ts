/**
 * The files the library reads: shipped JSON (presets/, tech/) and the user's own files. Under
 * Node they come from the package folder and the file system; in a browser there is no file
 * system, and the page hands the shipped files over (`provideShippedFiles`) from its bundle.
 * This module is the library's only door to the file system for these reads, which is what
 * keeps the space, IR, hypernetwork and cost model importable in a browser.
 */
import type * as NodeFs from "node:fs";

/** node:fs where the runtime has one (obtained at run time, so that bundlers leave it out). */
const fs = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.("node:fs") as typeof NodeFs | undefined;

const PACKAGE_ROOT = new URL("../../", import.meta.url);
const provided = new Map<string, unknown>();

/** Shipped files for runtimes without a file system, keyed by their path in the package ("presets/rram.json"). */
export function provideShippedFiles(files: Readonly<Record<string, unknown>>): void {
  for (const [path, json] of Object.entries(files)) provided.set(path, json);
}

export class FileReadError extends Error {
  override name = "FileReadError";
}

/** A shipped JSON file by its path in the package; undefined when it does not exist. */
export function readShippedJson(path: string): unknown {
  if (provided.has(path)) return structuredClone(provided.get(path));
  if (!fs) return undefined;
  const url = new URL(path, PACKAGE_ROOT);
  if (!fs.existsSync(url)) return undefined;
  return parseJson(fs.readFileSync(url, "utf8"), path);
}

/** Whether a user's path names a file (never, where there is no file system). */
export function isUserFile(path: string): boolean {
  return fs?.existsSync(path) === true && fs.statSync(path).isFile();
}

/** A user's text file. */
export function readUserText(path: string): string {
  if (!fs) throw new FileReadError(`cannot read '${path}': this runtime has no file system`);
  return fs.readFileSync(path, "utf8");
}

/** A user's JSON file; FileReadError names the file and what is wrong with it. */
export function readUserJson(path: string): unknown {
  if (!isUserFile(path)) throw new FileReadError(`file not found: ${path}`);
  return parseJson(readUserText(path), path);
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FileReadError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
}
