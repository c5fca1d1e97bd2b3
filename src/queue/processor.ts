/**
 * A BullMQ sandboxed processor: each job runs in a child process of the worker, so the worker's
 * own event loop stays free to renew its job locks however long the computation takes.
 */
import type { SandboxedJob } from "bullmq";
import { resolveDataDir } from "../data/cifar10.js";
import { type Envelope, runJob } from "./tasks.js";

export default async function process(job: SandboxedJob): Promise<unknown> {
  return runJob(job.data as Envelope, {
    get dataDir() {
      return resolveDataDir(undefined); // the worker's --data, passed as $MEMHYPER_DATA
    },
  });
}
