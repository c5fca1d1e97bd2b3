/**
 * safetensors I/O (https://github.com/huggingface/safetensors format): an 8-byte
 * little-endian header length, a JSON header of {dtype, shape, data_offsets}, then the
 * raw little-endian data. Weights are stored under the reference PyTorch names, so files
 * load in the reference implementation unchanged.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../util/atomic.js";
import type { Model } from "./model.js";

export class WeightFileError extends Error {
  override name = "WeightFileError";
}

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface TensorRecord {
  readonly dtype: "F32" | "I64";
  readonly shape: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, I64: 8 };

export function encodeSafetensors(
  tensors: Map<string, TensorRecord>,
  metadata: Record<string, string> = {},
): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = [...tensors.keys()];
  for (const name of names) {
    const t = tensors.get(name)!;
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes
  const headerBytes = Buffer.from(json, "utf8");
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(
  buf: Buffer,
  file = "weights",
): { tensors: Map<string, TensorRecord>; metadata: Record<string, string> } {
  const fix =
    "re-create it (memhyper train / finetune write valid files) or convert a PyTorch state_dict with safetensors.torch.save_file";
  if (buf.length < 8)
    throw new WeightFileError(
      `${file}: truncated: ${buf.length} bytes, not even the 8-byte header length; ${fix}`,
    );
  const n = Number(buf.readBigUInt64LE(0));
  if (n > buf.length - 8)
    throw new WeightFileError(
      `${file}: truncated or corrupt: header says ${n} bytes but the file has ${buf.length - 8} after it; ${fix}`,
    );
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  } catch {
    throw new WeightFileError(`${file}: corrupt: the header is not valid JSON; ${fix}`);
  }
  const dataStart = 8 + n;
  const dataLength = buf.length - dataStart;
  const tensors = new Map<string, TensorRecord>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const e = raw as Entry;
    const width = DTYPE_BYTES[e?.dtype];
    if (!width)
      throw new WeightFileError(
        `${file}: tensor '${name}' has dtype ${e?.dtype}; memhyper reads F32 (and I64 for num_batches_tracked)`,
      );
    const [begin, end] = e.data_offsets ?? [];
    const count = (e.shape ?? []).reduce((a, b) => a * b, 1);
    if (!Number.isInteger(begin) || !Number.isInteger(end) || end! - begin! !== count * width) {
      throw new WeightFileError(
        `${file}: corrupt: tensor '${name}' has offsets inconsistent with its shape ${JSON.stringify(e.shape)}`,
      );
    }
    if (end! > dataLength)
      throw new WeightFileError(
        `${file}: truncated: tensor '${name}' ends at byte ${end} of ${dataLength} data bytes; ${fix}`,
      );
    const bytes = Buffer.from(buf.subarray(dataStart + begin!, dataStart + end!)); // copy: aligned
    const data =
      e.dtype === "F32"
        ? new Float32Array(bytes.buffer, bytes.byteOffset, count)
        : new BigInt64Array(bytes.buffer, bytes.byteOffset, count);
    tensors.set(name, { dtype: e.dtype as "F32" | "I64", shape: e.shape, data });
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}

export function modelRecords(model: Model): Map<string, TensorRecord> {
  const out = new Map<string, TensorRecord>();
  for (const p of model.net.params) {
    if (p.role === "num_batches_tracked") {
      out.set(p.name, {
        dtype: "I64",
        shape: [],
        data: BigInt64Array.of(BigInt(model.batchesTracked.get(p.name) ?? 0)),
      });
    } else {
      out.set(p.name, { dtype: "F32", shape: p.shape, data: model.tensor(p.name).data });
    }
  }
  return out;
}

export function saveModel(model: Model, path: string, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(modelRecords(model), metadata));
}

/**
 * Loads weights by reference name. Every tensor the model needs must be present with its
 * shape; `auxiliary_head.*` tensors are ignored when the model has no auxiliary head, and
 * `optimizer.*` tensors (momentum in a training checkpoint) are ignored, so that a run in
 * progress can be evaluated from its checkpoint.
 */
export function loadModelWeights(model: Model, path: string): Record<string, string> {
  return applyRecords(model, readWeightFile(path), path);
}

/** A weights file, decoded; a missing or unreadable one is a WeightFileError naming the path. */
export function readWeightFile(path: string): ReturnType<typeof decodeSafetensors> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new WeightFileError(
      `cannot read weights '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check the --weights path`,
    );
  }
  return decodeSafetensors(buf, path);
}

export function applyRecords(
  model: Model,
  file: ReturnType<typeof decodeSafetensors>,
  path: string,
): Record<string, string> {
  const { tensors, metadata } = file;
  const needed = new Set(model.net.params.map((p) => p.name));
  for (const name of tensors.keys()) {
    if (!needed.has(name) && !name.startsWith("auxiliary_head.") && !name.startsWith("optimizer.")) {
      throw new WeightFileError(
        `${path}: unexpected tensor '${name}': the file was saved for a different network or size (check --genotype or --net, --channels, --layers)`,
      );
    }
  }
  for (const p of model.net.params) {
    const t = tensors.get(p.name);
    if (!t)
      throw new WeightFileError(
        `${path}: missing tensor '${p.name}': the file was saved for a different network or size (check --genotype or --net, --channels, --layers)`,
      );
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new WeightFileError(
        `${path}: tensor '${p.name}' has shape [${t.shape.join(", ")}], the model needs [${p.shape.join(", ")}] (check --channels and --layers)`,
      );
    }
    if (p.role === "num_batches_tracked") {
      model.batchesTracked.set(p.name, Number((t.data as BigInt64Array)[0] ?? 0n));
    } else {
      if (t.dtype !== "F32")
        throw new WeightFileError(`${path}: tensor '${p.name}' must be F32, got ${t.dtype}`);
      model.tensor(p.name).data.set(t.data as Float32Array);
    }
  }
  return metadata;
}
