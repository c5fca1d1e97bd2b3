import { buildNetwork } from "../src/ir/network.js";
import { resolveArchitecture } from "../src/space/architecture.js";
import { Model } from "../src/engine/model.js";
import { Tensor } from "../src/engine/tensor.js";
import { Arena, withArena } from "../src/engine/arena.js";
import { Tape } from "../src/engine/tape.js";
import * as ops from "../src/engine/ops.js";
import { kernels, setBackend } from "../src/engine/kernels/index.js";
const k = kernels() as any;
const times: Record<string, number> = {};
const wrapped: any = { name: "native" };
for (const key of Object.keys(k)) {
  if (typeof k[key] !== "function") continue;
  wrapped[key] = (...a: any[]) => { const t = performance.now(); const r = k[key](...a); const tag = key === "convForward" || key === "convBackward" ? key + (a[0].groups > 1 ? "_dw" : a[0].k === 1 ? "_1x1" : "_kxk") : key; times[tag] = (times[tag] ?? 0) + performance.now() - t; return r; };
}
setBackend(wrapped);
const net = buildNetwork(resolveArchitecture("DARTS_V2"), { channels: 16, layers: 8, auxiliary: true });
const m = new Model(net, 1);
const B = 64;
const x = Tensor.zeros([B, 3, 32, 32]);
const labels = Array.from({ length: B }, (_, i) => i % 10);
const arena = new Arena();
for (let r = 0; r < 5; r++) {
  for (const key of Object.keys(times)) times[key] = 0;
  const t = performance.now();
  const tape = new Tape();
  let tf = 0;
  withArena(arena, () => {
  const out = m.forward(x, { training: true, tape, dropPathProb: 0.1 });
  const loss = ops.add(tape, [ops.crossEntropy(tape, out.logits, labels), ops.crossEntropy(tape, out.auxLogits!, labels, 0.4)]);
  tf = performance.now() - t;
  tape.backward(loss);
  });
  arena.reset();
  const tt = performance.now() - t;
  const sum = Object.values(times).reduce((a, b) => a + b, 0);
  console.log(`fwd ${tf.toFixed(0)} total ${tt.toFixed(0)} kernels ${sum.toFixed(0)}`, Object.entries(times).map(([a, b]) => `${a}:${b.toFixed(0)}`).join(" "));
}
