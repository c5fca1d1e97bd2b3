/** Atomic file writes: temp file, flush, rename. Killing the process at any moment never leaves a half-written file. */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";

export function writeFileAtomic(path: string, data: Buffer | string): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
