// N-API boundary: typed arrays and flat integers in, nothing allocated on the JS side.
// Declared in TypeScript as NativeKernels (src/engine/kernels/native.ts).
#include <napi.h>

#include <algorithm>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "kernels.h"
#include "xbar.h"

namespace {

float* F(const Napi::CallbackInfo& info, int i) {
  if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  return info[i].As<Napi::Float32Array>().Data();
}
int I(const Napi::CallbackInfo& info, int i) { return info[i].As<Napi::Number>().Int32Value(); }
double D(const Napi::CallbackInfo& info, int i) { return info[i].As<Napi::Number>().DoubleValue(); }

mh::ConvGeom Geom(const Napi::CallbackInfo& info, int at) {
  // [n, c, h, w, oc, k, stride, pad, dil, groups, oh, ow]
  mh::ConvGeom g;
  g.n = I(info, at);
  g.c = I(info, at + 1);
  g.h = I(info, at + 2);
  g.w = I(info, at + 3);
  g.oc = I(info, at + 4);
  g.k = I(info, at + 5);
  g.stride = I(info, at + 6);
  g.pad = I(info, at + 7);
  g.dil = I(info, at + 8);
  g.groups = I(info, at + 9);
  g.oh = I(info, at + 10);
  g.ow = I(info, at + 11);
  return g;
}

template <typename T>
const T* Arr(const Napi::Object& o, const char* key) {
  const Napi::Value v = o.Get(key);
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return v.As<Napi::TypedArrayOf<T>>().Data();
}

Napi::Value FillNormals(const Napi::CallbackInfo& info) {
  Napi::Float32Array out = info[1].As<Napi::Float32Array>();
  std::vector<float> u1, u2, z;
  mh::fill_normals(info[0].As<Napi::Number>().Uint32Value(), out.ElementLength(), u1, u2, z);
  std::copy(z.begin(), z.begin() + out.ElementLength(), out.Data());
  return info.Env().Undefined();
}

Napi::Value XbarForward(const Napi::CallbackInfo& info) {
  // (layer object, x, y, colMax | null); geometry fields as in Geom()
  const auto o = info[0].As<Napi::Object>();
  const auto geom = o.Get("geom").As<Napi::Object>();
  auto gi = [&](const char* k) { return geom.Get(k).As<Napi::Number>().Int32Value(); };
  mh::XbarLayer L;
  L.g = {gi("n"), gi("c"), gi("h"), gi("w"), gi("oc"), gi("k"), gi("stride"), gi("pad"), gi("dil"), gi("groups"),
         gi("oh"), gi("ow")};
  L.in_scale = o.Get("inScale").As<Napi::Number>().DoubleValue();
  L.relu_in = o.Get("reluIn").As<Napi::Boolean>();
  L.code_min = o.Get("codeMin").As<Napi::Number>().Int32Value();
  L.code_max = o.Get("codeMax").As<Napi::Number>().Int32Value();
  L.arrays = o.Get("arrays").As<Napi::Number>().Int32Value();
  L.row_off = Arr<int32_t>(o, "rowOff");
  L.rows = Arr<int32_t>(o, "rows");
  L.col_off = Arr<int32_t>(o, "colOff");
  L.col_out = Arr<int32_t>(o, "colOut");
  L.col_weight = Arr<float>(o, "colWeight");
  L.g_off = Arr<int32_t>(o, "gOff");
  L.gm = Arr<float>(o, "g");
  L.read_var = Arr<float>(o, "readVar");
  L.adc_lsb = Arr<float>(o, "adcLsb");
  L.adc_min = o.Get("adcMin").As<Napi::Number>().Int32Value();
  L.adc_max = o.Get("adcMax").As<Napi::Number>().Int32Value();
  L.g0 = o.Get("g0").As<Napi::Number>().DoubleValue();
  L.planes = Arr<int32_t>(o, "planes");
  L.plane_weight = Arr<float>(o, "planeWeight");
  L.n_planes = (int)o.Get("planeWeight").As<Napi::Float32Array>().ElementLength();
  L.out_scale = Arr<double>(o, "outScale");
  L.out_bias = Arr<float>(o, "outBias");
  L.seed = o.Get("seed").As<Napi::Number>().Uint32Value();
  L.image_offset = o.Get("imageOffset").As<Napi::Number>().Int32Value();
  mh::Collapsed collapsed;
  const Napi::Value c = o.Get("collapsed");
  if (c.IsObject()) {
    const auto co = c.As<Napi::Object>();
    collapsed = {Arr<int32_t>(co, "outOff"),       Arr<int32_t>(co, "outputs"),      Arr<int32_t>(co, "wOff"),
                 Arr<float>(co, "weight"),         Arr<float>(co, "variance"),       Arr<float>(co, "rounding"),
                 Arr<float>(co, "codeVariance"),   Arr<int32_t>(co, "codePhases"),   Arr<float>(co, "phaseVariance")};
    L.collapsed = &collapsed;
    if (!info[3].IsNull() && !info[3].IsUndefined()) {
      Napi::Error::New(info.Env(), "ADC ranges are calibrated on the exact path").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
  }
  mh::xbar_forward(L, F(info, 1), F(info, 2), F(info, 3));
  return info.Env().Undefined();
}

Napi::Value ConvForwardQuantized(const Napi::CallbackInfo& info) {
  // (geom×12, x, w, y, scale, reluIn, lo, hi, bias | null, outScale: Float64Array)
  mh::InputMap m;
  m.quantize = true;
  m.scale = (float)D(info, 15);
  m.relu = info[16].As<Napi::Boolean>();
  m.lo = (float)D(info, 17);
  m.hi = (float)D(info, 18);
  mh::conv2d_forward_mapped(Geom(info, 0), F(info, 12), F(info, 13), F(info, 14), m, F(info, 19),
                            info[20].As<Napi::Float64Array>().Data());
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  mh::set_threads(I(info, 0));
  return Napi::Number::New(info.Env(), mh::threads());
}

#ifndef MEMHYPER_ISA
#define MEMHYPER_ISA "portable"
#endif

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("threads", mh::threads());
  o.Set("blas", mh::has_blas());
  o.Set("isa", MEMHYPER_ISA);
  return o;
}

/** The x86-64 instruction-set levels this CPU runs (none elsewhere): the loader picks a build by them. */
Napi::Value CpuLevels(const Napi::CallbackInfo& info) {
  auto levels = Napi::Array::New(info.Env());
#if defined(__x86_64__)
  __builtin_cpu_init();
  uint32_t n = 0;
  if (__builtin_cpu_supports("x86-64-v3")) levels.Set(n++, "x86-64-v3");
  if (__builtin_cpu_supports("x86-64-v4")) levels.Set(n++, "x86-64-v4");
#endif
  return levels;
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  // (ta, tb, m, n, k, alpha, a, b, beta, c) with packed leading dimensions
  const bool ta = info[0].As<Napi::Boolean>(), tb = info[1].As<Napi::Boolean>();
  const int m = I(info, 2), n = I(info, 3), k = I(info, 4);
  mh::gemm(ta, tb, m, n, k, (float)D(info, 5), F(info, 6), ta ? m : k, F(info, 7), tb ? k : n, (float)D(info, 8),
           F(info, 9), n);
  return info.Env().Undefined();
}

Napi::Value ConvForward(const Napi::CallbackInfo& info) {
  mh::conv2d_forward(Geom(info, 0), F(info, 12), F(info, 13), F(info, 14), info[15].As<Napi::Boolean>(), F(info, 16),
                     F(info, 17));
  return info.Env().Undefined();
}

// (geometry, parts: Float32Array[], w, y, reluIn, bias): each part's channels follow from its length.
Napi::Value ConvForwardConcat(const Napi::CallbackInfo& info) {
  const mh::ConvGeom g = Geom(info, 0);
  auto list = info[12].As<Napi::Array>();
  std::vector<const float*> xs(list.Length());
  std::vector<int> part_c(list.Length());
  for (uint32_t q = 0; q < list.Length(); q++) {
    auto part = list.Get(q).As<Napi::Float32Array>();
    xs[q] = part.Data();
    part_c[q] = (int)(part.ElementLength() / ((size_t)g.n * g.h * g.w));
  }
  mh::conv1x1_forward_concat(g, (int)xs.size(), xs.data(), part_c.data(), F(info, 13), F(info, 14),
                             info[15].As<Napi::Boolean>(), F(info, 16), F(info, 17));
  return info.Env().Undefined();
}

Napi::Value ConvBackward(const Napi::CallbackInfo& info) {
  mh::conv2d_backward(Geom(info, 0), F(info, 12), F(info, 13), F(info, 14), F(info, 15), F(info, 16),
                     info[17].As<Napi::Boolean>(), info[18].As<Napi::Boolean>());
  return info.Env().Undefined();
}

Napi::Value PoolForward(const Napi::CallbackInfo& info) {
  mh::pool_forward(info[0].As<Napi::Boolean>(), I(info, 1), I(info, 2), I(info, 3), I(info, 4), I(info, 5), I(info, 6),
                   I(info, 7), I(info, 8), I(info, 9), F(info, 10), F(info, 11));
  return info.Env().Undefined();
}

Napi::Value PoolBackward(const Napi::CallbackInfo& info) {
  mh::pool_backward(info[0].As<Napi::Boolean>(), I(info, 1), I(info, 2), I(info, 3), I(info, 4), I(info, 5), I(info, 6),
                    I(info, 7), I(info, 8), I(info, 9), F(info, 10), F(info, 11), F(info, 12),
                    info[13].As<Napi::Boolean>());
  return info.Env().Undefined();
}

Napi::Value BnForwardTrain(const Napi::CallbackInfo& info) {
  mh::bn_forward_train(I(info, 0), I(info, 1), I(info, 2), F(info, 3), F(info, 4), F(info, 5), (float)D(info, 6),
                       F(info, 7), F(info, 8), F(info, 9));
  return info.Env().Undefined();
}

Napi::Value BnForwardEval(const Napi::CallbackInfo& info) {
  mh::bn_forward_eval(I(info, 0), I(info, 1), I(info, 2), F(info, 3), F(info, 4), F(info, 5), F(info, 6), F(info, 7),
                      (float)D(info, 8), F(info, 9));
  return info.Env().Undefined();
}

Napi::Value BnBackward(const Napi::CallbackInfo& info) {
  mh::bn_backward(I(info, 0), I(info, 1), I(info, 2), F(info, 3), F(info, 4), F(info, 5), F(info, 6), F(info, 7),
                  F(info, 8), F(info, 9), F(info, 10), info[11].As<Napi::Boolean>());
  return info.Env().Undefined();
}

Napi::Value RowScaleAdd(const Napi::CallbackInfo& info) {
  auto x = info[0].As<Napi::Float32Array>();
  auto scales = info[1].As<Napi::Float32Array>();
  const int rows = (int)scales.ElementLength();
  mh::row_scale_add(rows, (int64_t)x.ElementLength() / rows, x.Data(), scales.Data(), F(info, 2), info[3].As<Napi::Boolean>());
  return info.Env().Undefined();
}

Napi::Value Sum2(const Napi::CallbackInfo& info) {
  const int rows = I(info, 0);
  auto x0 = info[1].As<Napi::Float32Array>();
  mh::sum2(rows, (int64_t)x0.ElementLength() / rows, x0.Data(), F(info, 2), F(info, 3), F(info, 4), F(info, 5));
  return info.Env().Undefined();
}

int64_t L(const Napi::CallbackInfo& info, int i) { return info[i].As<Napi::Number>().Int64Value(); }

// (count, len, src, srcOffset, srcStride, dst, dstOffset, dstStride)
Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  mh::strided_copy(L(info, 0), L(info, 1), F(info, 2) + L(info, 3), L(info, 4), F(info, 5) + L(info, 6), L(info, 7));
  return info.Env().Undefined();
}

// (x, y): y has one value per plane of x.
Napi::Value GlobalAvgPool(const Napi::CallbackInfo& info) {
  auto x = info[0].As<Napi::Float32Array>();
  auto y = info[1].As<Napi::Float32Array>();
  const int64_t planes = (int64_t)y.ElementLength();
  mh::global_avg_pool(planes, (int64_t)x.ElementLength() / planes, x.Data(), y.Data());
  return info.Env().Undefined();
}

Napi::Value ShiftForward(const Napi::CallbackInfo& info) {
  mh::shift_forward(L(info, 0), I(info, 1), I(info, 2), F(info, 3), F(info, 4));
  return info.Env().Undefined();
}

Napi::Value ShiftBackward(const Napi::CallbackInfo& info) {
  mh::shift_backward(L(info, 0), I(info, 1), I(info, 2), F(info, 3), F(info, 4));
  return info.Env().Undefined();
}

Napi::Value ReluForward(const Napi::CallbackInfo& info) {
  auto x = info[0].As<Napi::Float32Array>();
  mh::relu_forward((int64_t)x.ElementLength(), x.Data(), F(info, 1));
  return info.Env().Undefined();
}

Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  auto x = info[0].As<Napi::Float32Array>();
  mh::relu_backward((int64_t)x.ElementLength(), x.Data(), F(info, 1), F(info, 2));
  return info.Env().Undefined();
}

Napi::Value MaxValue(const Napi::CallbackInfo& info) {
  auto x = info[0].As<Napi::Float32Array>();
  const float m = mh::max_value((int64_t)x.ElementLength(), x.Data(), info[1].As<Napi::Boolean>(), (float)D(info, 2));
  return Napi::Number::New(info.Env(), m);
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  auto x = info[1].As<Napi::Float32Array>();
  mh::axpy((int64_t)x.ElementLength(), (float)D(info, 0), x.Data(), F(info, 2));
  return info.Env().Undefined();
}

Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  auto w = info[0].As<Napi::Float32Array>();
  mh::sgd_step((int64_t)w.ElementLength(), w.Data(), F(info, 1), F(info, 2), D(info, 3), D(info, 4), D(info, 5),
               info[6].As<Napi::Boolean>(), info[7].As<Napi::Boolean>());
  return info.Env().Undefined();
}

Napi::Value ScaleRows(const Napi::CallbackInfo& info) {
  auto s = info[0].As<Napi::Float64Array>();
  auto x = info[1].As<Napi::Float32Array>();
  const int rows = (int)s.ElementLength();
  mh::scale_rows(rows, rows ? (int64_t)x.ElementLength() / rows : 0, s.Data(), x.Data(), F(info, 2));
  return info.Env().Undefined();
}

// Every batch allocates and frees activations of megabytes. By default glibc returns freed
// memory at the heap's top to the kernel and maps larger blocks afresh, so the next batch
// takes page faults on zeroed pages (the kernel's zeroing was 9.7 % of an int8 inference
// profile). Blocks up to 32 MiB (glibc's ceiling) stay in the heap, and the heap keeps what
// it freed.
static void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  keep_freed_memory();
  mh::set_threads(0);
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("cpuLevels", Napi::Function::New(env, CpuLevels));
  exports.Set("convForwardQuantized", Napi::Function::New(env, ConvForwardQuantized));
  exports.Set("xbarForward", Napi::Function::New(env, XbarForward));
  exports.Set("fillNormals", Napi::Function::New(env, FillNormals));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("convForward", Napi::Function::New(env, ConvForward));
  exports.Set("convForwardConcat", Napi::Function::New(env, ConvForwardConcat));
  exports.Set("convBackward", Napi::Function::New(env, ConvBackward));
  exports.Set("poolForward", Napi::Function::New(env, PoolForward));
  exports.Set("poolBackward", Napi::Function::New(env, PoolBackward));
  exports.Set("bnForwardTrain", Napi::Function::New(env, BnForwardTrain));
  exports.Set("bnForwardEval", Napi::Function::New(env, BnForwardEval));
  exports.Set("bnBackward", Napi::Function::New(env, BnBackward));
  exports.Set("rowScaleAdd", Napi::Function::New(env, RowScaleAdd));
  exports.Set("sum2", Napi::Function::New(env, Sum2));
  exports.Set("stridedCopy", Napi::Function::New(env, StridedCopy));
  exports.Set("globalAvgPool", Napi::Function::New(env, GlobalAvgPool));
  exports.Set("shiftForward", Napi::Function::New(env, ShiftForward));
  exports.Set("shiftBackward", Napi::Function::New(env, ShiftBackward));
  exports.Set("reluForward", Napi::Function::New(env, ReluForward));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward));
  exports.Set("axpy", Napi::Function::New(env, Axpy));
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep));
  exports.Set("maxValue", Napi::Function::New(env, MaxValue));
  exports.Set("scaleRows", Napi::Function::New(env, ScaleRows));
  return exports;
}

}  // namespace

NODE_API_MODULE(memhyper_native, Init)
