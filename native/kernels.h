// Hot numeric kernels of the memhyper engine (float32, NCHW). Each has a pure TypeScript
// twin in src/engine/kernels/ts.ts that tests compare against.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace mh {

struct ConvGeom {
  int n, c, h, w;       // input
  int oc, k, stride, pad, dil, groups;
  int oh, ow;           // output
};

void set_threads(int t);
int threads();
bool has_blas();

// C[m×n] = alpha·op(A)·op(B) + beta·C, row-major.
void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
          float beta, float* c, int ldc);

// C[m×n] = A·B with row p of B at b + row_off[p] (B's rows read in place: the shifted planes
// of a convolution's taps), A row-major with lda, any m, short k.
void gemm_rows(int m, int n, int k, const float* a, int lda, const float* b, const int64_t* row_off, float* c,
               int ldc);

// How a convolution reads its input: through a ReLU, and for quantized layers as integer
// codes: round half away from zero of the float32 quotient x / scale, clamped to [lo, hi]
// (exact in float for |t| < 2^22; larger values clamp anyway). The rule of
// src/xbar/layout.ts inputCodes.
struct InputMap {
  bool relu = false;
  bool quantize = false;
  float scale = 1.f, lo = 0.f, hi = 0.f;
  bool active() const { return relu || quantize; }
  float operator()(float x) const {
    const float v = relu && x < 0.f ? 0.f : x;
    return quantize ? code(v, scale, lo, hi) : v;
  }
  static float code(float v, float scale, float lo, float hi) {
    const float t = v / scale;
    return std::min(hi, std::max(lo, std::copysign(std::floor(std::fabs(t) + 0.5f), t)));
  }
};

// dst[i] = m(src[i]) for i < n, in one vectorised loop per case (GCC leaves a loop that
// calls m's branches scalar).
void map_inputs(const InputMap& m, const float* src, float* dst, int64_t n);

// Convolution of mapped inputs; with out_scale (quantized layers) every output becomes
// (float)(acc·out_scale[o] + bias[o]) computed in double, acc being the float32 sum.
void conv2d_forward_mapped(const ConvGeom& g, const float* x, const float* w, float* y, const InputMap& in,
                           const float* bias, const double* out_scale, const float* add = nullptr);

// relu_in: the input is read through a ReLU (fused), and dx is masked by x > 0.
// bias (may be null): added per output channel (inference with batch norm folded in).
// add (may be null, shaped as y): y = conv + add, rounded as the convolution then the sum.
void conv2d_forward(const ConvGeom& g, const float* x, const float* w, float* y, bool relu_in, const float* bias,
                    const float* add = nullptr);
// conv2d_forward of a pointwise convolution (1×1, stride 1, no padding, one group) whose input
// is the channel concatenation of `parts` inputs (part q: part_c[q] channels, NCHW), read
// where they are instead of from a concatenated copy. The same bits.
void conv1x1_forward_concat(const ConvGeom& g, int parts, const float* const* xs, const int* part_c, const float* w,
                            float* y, bool relu_in, const float* bias, const float* add = nullptr);
// dx may be null (input needs no gradient); dw is accumulated into (+=); with `accumulate`
// dx holds a gradient already and this one is added into it, else dx is written.
void conv2d_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx, float* dw,
                     bool relu_in, bool accumulate);

void pool_forward(bool is_max, int n, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                  const float* x, float* y);
// With `accumulate` the gradient is added into dx, else dx is written.
void pool_backward(bool is_max, int n, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                   const float* x, const float* dy, float* dx, bool accumulate);

// Training-mode batch norm: normalises with batch statistics, returns them (biased var).
void bn_forward_train(int n, int c, int hw, const float* x, const float* gamma, const float* beta, float eps,
                      float* y, float* mean, float* invstd);
void bn_forward_eval(int n, int c, int hw, const float* x, const float* gamma, const float* beta,
                     const float* mean, const float* var, float eps, float* y);
// dx computed; dgamma, dbeta accumulated (+=). fixed_stats: mean and invstd are running
// statistics (constants), so dx = γ·invstd·dy.
void bn_backward(int n, int c, int hw, const float* x, const float* gamma, const float* mean, const float* invstd,
                 const float* dy, float* dx, float* dgamma, float* dbeta, bool fixed_stats);

// y[r] = (accumulate ? y[r] : 0) + scales[r]·x[r] for rows of `per` values (drop-path sums).
void row_scale_add(int rows, int64_t per, const float* x, const float* scales, float* y, bool accumulate);
// y = s0[r]·x0 + s1[r]·x1 over rows of `per` values, a null scale meaning 1: a two-input node
// sum in one pass. Rounds as row_scale_add into y and then accumulating would:
// fma(s1, x1, s0·x0), so it gives the bits of the two-pass sum.
void sum2(int rows, int64_t per, const float* x0, const float* s0, const float* x1, const float* s1, float* y);
// count rows of len values: dst[r·dst_stride ..] = src[r·src_stride ..] (concat and its gradient).
void strided_copy(int64_t count, int64_t len, const float* src, int64_t src_stride, float* dst, int64_t dst_stride);
// y = x[:, :, 1:, 1:] over `planes` planes of h×w, and its gradient (zeros in row 0 and column 0).
// y[p] = mean of plane p (hw values), summed in double.
void global_avg_pool(int64_t planes, int64_t hw, const float* x, float* y);
void shift_forward(int64_t planes, int h, int w, const float* x, float* y);
void shift_backward(int64_t planes, int h, int w, const float* dy, float* dx);
void relu_forward(int64_t len, const float* x, float* y);
void relu_backward(int64_t len, const float* x, const float* dy, float* dx);  // dx = dy·[x > 0]
float max_value(int64_t len, const float* x, bool abs, float start);  // max(start, max x or |x|)
void sgd_step(int64_t len, float* w, const float* g, float* buf, double lr, double mu, double wd, bool nesterov,
              bool first);  // one SGD step on one parameter (see optim.ts)
void axpy(int64_t len, float a, const float* x, float* y);                   // y += a·x
// y[r·m + i] = scales[r]·x[r·m + i] in double, rounded once (the TypeScript fold's bits).
void scale_rows(int rows, int64_t m, const double* scales, const float* x, float* y);

}  // namespace mh
