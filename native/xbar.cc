// Crossbar forward: per image (images split over threads, each image independent, so the
// result does not depend on scheduling), per array: gather the driven rows of the im2col
// input, apply each DAC phase, column sums by GEMM (float32: exact for integer states while
// every partial sum stays below 2^24), read noise, ADC, weighted digital accumulation in
// float64. Read noise draws come from the same seeded xoshiro128** streams as TypeScript.
#include "xbar.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace mh {
namespace {

uint32_t derive_seed(uint32_t seed, std::initializer_list<uint32_t> parts) {
  uint32_t h = seed ^ 0x811c9dc5u;
  for (uint32_t p : parts) {
    h = (h ^ p) * 0x01000193u;
    h = (h ^ (h >> 15)) * 0x2c1b3c6du;
    h = (h ^ (h >> 12)) * 0x297a2d39u;
    h = h ^ (h >> 15);
  }
  return h;
}

// The read-noise normals of src/util/normals.ts: kNormalLanes xoshiro128** generators
// stepped together (one SIMD register per state word), uniforms from the top 24 bits, the
// Box–Muller transform in float.
constexpr int kNormalLanes = 8;

struct NormalLanes {
  uint32_t s[4][kNormalLanes];  // word w of lane l; lane l holds splitmix32 outputs 4l … 4l+3
  explicit NormalLanes(uint32_t seed) {
    uint32_t x = seed;
    for (int i = 0; i < 4 * kNormalLanes; i++) {
      x += 0x9e3779b9u;
      uint32_t z = x;
      z = (z ^ (z >> 16)) * 0x85ebca6bu;
      z = (z ^ (z >> 13)) * 0xc2b2ae35u;
      s[i % 4][i / 4] = z ^ (z >> 16);
    }
    for (int l = 0; l < kNormalLanes; l++)
      if ((s[0][l] | s[1][l] | s[2][l] | s[3][l]) == 0) s[0][l] = 1;
  }
  void step(uint32_t* out) {
#pragma omp simd
    for (int l = 0; l < kNormalLanes; l++) {
      const uint32_t s0 = s[0][l], s1 = s[1][l], s2 = s[2][l], s3 = s[3][l];
      const uint32_t m = s1 * 5;
      const uint32_t r = (m << 7) | (m >> 25);
      out[l] = r * 9;
      const uint32_t n2 = s2 ^ s0, n3 = s3 ^ s1;
      s[1][l] = s1 ^ n2;
      s[0][l] = s0 ^ n3;
      s[2][l] = n2 ^ (s1 << 9);
      s[3][l] = (n3 << 11) | (n3 >> 21);
    }
  }
};

// ln x for normal x > 0: exponent and mantissa in [√½, √2), then 2·atanh((m−1)/(m+1)) to s^9
// (|s| ≤ 0.172: below float rounding). Plain arithmetic, so loops over it vectorise.
inline float fast_logf(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int e = (int)((bits >> 23) & 0xff) - 127;
  const uint32_t mbits = (bits & 0x7fffffu) | 0x3f800000u;
  float m;
  std::memcpy(&m, &mbits, sizeof m);
  const bool big = m > 1.41421356f;
  m = big ? 0.5f * m : m;
  e = big ? e + 1 : e;
  const float s = (m - 1) / (m + 1), s2 = s * s;
  const float poly = 1 + s2 * (1.f / 3 + s2 * (1.f / 5 + s2 * (1.f / 7 + s2 * (1.f / 9))));
  return (float)e * 0.693147181f + 2 * s * poly;
}

// cos and sin of 2πv: quarter turns k = round(4v), Taylor series on the rest (|f| ≤ π/4,
// error below 3e-8), rotated back by k.
inline void fast_sincos_turnsf(float v, float& c, float& s) {
  const float t = 4 * v;
  const float k = __builtin_floorf(t + 0.5f);
  const float f = (t - k) * 1.57079633f, f2 = f * f;
  const float sf = f * (1 + f2 * (-1.f / 6 + f2 * (1.f / 120 + f2 * (-1.f / 5040 + f2 / 362880.f))));
  const float cf = 1 + f2 * (-0.5f + f2 * (1.f / 24 + f2 * (-1.f / 720 + f2 * (1.f / 40320 - f2 / 3628800.f))));
  const int q = (int)k & 3;
  c = q == 0 ? cf : q == 1 ? -sf : q == 2 ? -cf : sf;
  s = q == 0 ? sf : q == 1 ? cf : q == 2 ? -sf : -cf;
}

}  // namespace

// The first `count` normals of the stream `seed` (src/util/normals.ts), in z[0 … count).
void fill_normals(uint32_t seed, size_t count, std::vector<float>& u1, std::vector<float>& u2, std::vector<float>& z) {
  constexpr int L = kNormalLanes;
  const size_t blocks = ((count + 1) / 2 + L - 1) / L, pairs = blocks * L;
  u1.resize(pairs);
  u2.resize(pairs);
  z.resize(2 * pairs);
  NormalLanes lanes(seed);
  uint32_t x[L];
  constexpr float inv24 = 1.f / 16777216;
  for (size_t b = 0; b < blocks; b++) {
    lanes.step(x);
    for (int l = 0; l < L; l++) u1[b * L + l] = (float)((x[l] >> 8) | 1u) * inv24;  // odd: never 0 or 1
    lanes.step(x);
    for (int l = 0; l < L; l++) u2[b * L + l] = (float)(x[l] >> 8) * inv24;
  }
  float* zp = z.data();
  const float* a = u1.data();
  const float* v = u2.data();
#pragma omp simd
  for (size_t k = 0; k < pairs; k++) {
    const float r = std::sqrt(-2 * fast_logf(a[k]));
    float c, s;
    fast_sincos_turnsf(v[k], c, s);
    zp[2 * k] = r * c;
    zp[2 * k + 1] = r * s;
  }
}

namespace {

// One column's conversion: current (+ read noise + Gmin offset) → ADC → weighted into the
// accumulator; returns the running maximum |ADC input|. One branch-free instance per case.
struct ColumnRead {
  const float* cur;
  const float* z;       // standard normals (noisy)
  const float* var;     // read-noise variance (noisy)
  const float* row_sum; // driven inputs per position (offset)
  double g0, inv_lsb, amin, amax, w, wl;
};

template <bool Noisy, bool Offset, bool Lossy>
float convert(const ColumnRead& r, double* out, int P, float m) {
#pragma omp simd reduction(max : m)
  for (int p = 0; p < P; p++) {
    double s = r.cur[p];
    if constexpr (Noisy) s += std::sqrt((double)r.var[p]) * r.z[p];
    // Every driven device adds its Gmin current; a pair's two columns cancel it exactly
    // unless the ADC rounds them apart.
    double adc_in = s;
    if constexpr (Offset) adc_in += r.g0 * r.row_sum[p];
    m = std::max(m, (float)std::fabs(adc_in));
    if constexpr (Lossy) {
      double q = __builtin_floor(adc_in * r.inv_lsb + 0.5);
      q = q < r.amin ? r.amin : (q > r.amax ? r.amax : q);
      out[p] += r.wl * q;
    } else {
      out[p] += r.w * s;
    }
  }
  return m;
}

inline InputMap input_map(const XbarLayer& L) {
  InputMap m;
  m.relu = L.relu_in;
  m.quantize = true;
  m.scale = (float)L.in_scale;
  m.lo = (float)L.code_min;
  m.hi = (float)L.code_max;
  return m;
}

}  // namespace

namespace {

// Rows [lo, hi) of a column outside which every conductance is exactly zero (ideal devices
// on block-diagonal depthwise arrays): those rows add exact zeros and are skipped.
struct Band {
  int lo, hi;
};

// Column currents of one DAC phase on an array whose columns hold few nonzero rows (`bands`),
// the phase value of each input computed in place: the same sums, in the same order, as
// extracting the phase first.
void banded_phase(const int32_t* spec, bool identity, const float* in, const float* G, int nr, int nc, int P,
                  const Band* bands, float* cur) {
  const int sign = spec[0], shift = spec[1], mask = spec[2];
  for (int j = 0; j < nc; j++) {
    float* cj = cur + (size_t)j * P;
    std::fill(cj, cj + P, 0.f);
    const float* gj = G + (size_t)j * nr;
    for (int i = bands[j].lo; i < bands[j].hi; i++) {
      const float w = gj[i];
      if (w == 0.f) continue;
      const float* src = in + (size_t)i * P;
      if (identity) {
#pragma omp simd
        for (int p = 0; p < P; p++) cj[p] += w * src[p];
      } else if (sign == 2) {
#pragma omp simd
        for (int p = 0; p < P; p++) cj[p] += w * (float)(((int)src[p] >> shift) & mask);
      } else if (sign > 0) {
#pragma omp simd
        for (int p = 0; p < P; p++) cj[p] += w * (float)((std::max((int)src[p], 0) >> shift) & mask);
      } else if (sign < 0) {
#pragma omp simd
        for (int p = 0; p < P; p++) cj[p] += w * (float)((std::max(-(int)src[p], 0) >> shift) & mask);
      } else {
#pragma omp simd
        for (int p = 0; p < P; p++) {
          const int v = (int)src[p];
          const int mag = (std::abs(v) >> shift) & mask;
          cj[p] += w * (float)(v < 0 ? -mag : mag);
        }
      }
    }
  }
}


// The input codes of one image.
void input_codes(const XbarLayer& L, const float* xn, float* codes) {
  map_inputs(input_map(L), xn, codes, (int64_t)L.g.c * L.g.h * L.g.w);
}

// Visits the runs of array a's im2col rows that lie inside the image: visit(i, pos, src,
// count) says that positions pos … pos+count−1 of row i read the plane elements src,
// src + stride, … (one plane of h×w per channel; the rest of the row is padding).
template <typename Visit>
void visit_rows(const XbarLayer& L, int a, Visit visit) {
  const ConvGeom& g = L.g;
  const int HW = g.h * g.w, kk = g.k * g.k;
  const int r0 = L.row_off[a], nr = L.row_off[a + 1] - r0;
  for (int i = 0; i < nr; i++) {
    const int r = L.rows[r0 + i];
    const int c = r / kk, kh = (r % kk) / g.k, kw = r % g.k;
    // Output columns whose input column lies inside the image: [ow_lo, ow_hi).
    const int off = kw * g.dil - g.pad;
    const int ow_lo = std::min(g.ow, off >= 0 ? 0 : (-off + g.stride - 1) / g.stride);
    const int ow_hi = std::max(ow_lo, std::min(g.ow, g.w - off <= 0 ? 0 : (g.w - off - 1) / g.stride + 1));
    if (ow_hi == ow_lo) continue;
    for (int oh = 0; oh < g.oh; oh++) {
      const int ih = oh * g.stride - g.pad + kh * g.dil;
      if (ih < 0 || ih >= g.h) continue;
      visit(i, oh * g.ow + ow_lo, (size_t)c * HW + ih * g.w + off + ow_lo * g.stride, ow_hi - ow_lo);
    }
  }
}

// Array a's rows of the im2col input of one image's planes (codes, or a per-code value),
// [rows × positions]: a view when they are consecutive channels of a 1×1 layer, else
// gathered into `input` (zeros in the padding).
template <typename T>
const T* gather_rows(const XbarLayer& L, int a, const T* planes, T* input) {
  const ConvGeom& g = L.g;
  const int P = g.oh * g.ow;
  const int r0 = L.row_off[a], nr = L.row_off[a + 1] - r0;
  bool contiguous = g.k == 1 && g.stride == 1 && g.pad == 0;
  for (int i = 1; contiguous && i < nr; i++) contiguous = L.rows[r0 + i] == L.rows[r0] + i;
  if (contiguous) return planes + (size_t)L.rows[r0] * P;
  // Runs come row by row in increasing position: the padding between them is zeroed as the
  // rows are written, so every element is written once.
  const int stride = g.stride;
  int64_t filled = 0;  // input[0 … filled) is written
  visit_rows(L, a, [&](int i, int pos, size_t src, int count) {
    const int64_t at = (int64_t)i * P + pos;
    std::fill(input + filled, input + at, T(0));
    T* d = input + at;
    const T* s = planes + src;
    if (stride == 1)
      std::copy(s, s + count, d);
    else
      for (int e = 0; e < count; e++) d[e] = s[e * stride];
    filled = at + count;
  });
  std::fill(input + filled, input + (int64_t)nr * P, T(0));
  return input;
}

// mask[p] |= the plane value that row i of array a reads at position p, for every row.
void or_rows(const XbarLayer& L, int a, const int32_t* planes, int32_t* mask) {
  const int stride = L.g.stride;
  visit_rows(L, a, [&](int, int pos, size_t src, int count) {
    int32_t* d = mask + pos;
    const int32_t* s = planes + src;
    if (stride == 1) {
#pragma omp simd
      for (int e = 0; e < count; e++) d[e] |= s[e];
    } else {
      for (int e = 0; e < count; e++) d[e] |= s[e * stride];
    }
  });
}

constexpr uint32_t kFastPathStream = 0xfa57;  // FAST_PATH_STREAM of src/engine/kernels/xbar-ts.ts

// The fast noisy path (src/xbar/collapse.ts; TypeScript twin: collapsedForward in xbar-ts.ts).
void collapsed_forward(const XbarLayer& L, const float* x, float* y) {
  const ConvGeom& g = L.g;
  const Collapsed& C = *L.collapsed;
  const int P = g.oh * g.ow;
  int max_nr = 0, max_no = 0;
  for (int a = 0; a < L.arrays; a++) {
    max_nr = std::max(max_nr, L.row_off[a + 1] - L.row_off[a]);
    max_no = std::max(max_no, C.out_off[a + 1] - C.out_off[a]);
  }
  // Σ planeWeight² over a set of phases: two lookups of half the mask each.
  const int n_phases = L.n_planes, low_bits = (n_phases + 1) / 2;
  std::vector<float> low(1u << low_bits), high(1u << (n_phases - low_bits));
  for (uint32_t m = 0; m < low.size(); m++)
    for (int b = 0; b < low_bits; b++) low[m] += (m >> b & 1) ? C.phase_variance[b] : 0.f;
  for (uint32_t m = 0; m < high.size(); m++)
    for (int b = 0; b < n_phases - low_bits; b++) high[m] += (m >> b & 1) ? C.phase_variance[low_bits + b] : 0.f;
  const uint32_t low_mask = (uint32_t)low.size() - 1;
  auto phases_variance = [&](int32_t mask) {
    return low[(uint32_t)mask & low_mask] + high[(uint32_t)mask >> low_bits];
  };
  const int64_t plane_size = (int64_t)g.c * g.h * g.w;
  // Arrays whose outputs are consecutive channels accumulate straight from the GEMM.
  std::vector<char> consecutive(L.arrays);
  for (int a = 0; a < L.arrays; a++) {
    consecutive[a] = 1;
    for (int t = C.out_off[a] + 1; t < C.out_off[a + 1]; t++)
      if (C.outputs[t] != C.outputs[t - 1] + 1) consecutive[a] = 0;
  }
  // Stride-1 windows over whole channels (every tap of channels c0 … c0+nch−1, in order) run
  // tap by tap on zero-padded planes, with no im2col copy: output (oh, ow) is computed at
  // oh·Wp + ow of a grid as wide as the padded plane, and tap t reads the plane at that index
  // plus the tap's offset. The columns ow ≥ ow_max of the grid are discarded.
  const int kk = g.k * g.k, pad = g.pad, Hp = g.h + 2 * pad, Wp = g.w + 2 * pad;
  const int64_t padded_size = (int64_t)Hp * Wp;
  const int grid = g.oh * Wp;
  std::vector<int> tap_c0(L.arrays, -1);
  std::vector<int64_t> tap_w_off(L.arrays + 1, 0);
  bool any_taps = false;
  for (int a = 0; a < L.arrays; a++) {
    const int r0 = L.row_off[a], nr = L.row_off[a + 1] - r0;
    bool ok = g.k > 1 && g.stride == 1 && nr % kk == 0 && L.rows[r0] % kk == 0 && g.oh == Hp - g.dil * (g.k - 1) &&
              g.ow == Wp - g.dil * (g.k - 1);
    for (int i = 1; ok && i < nr; i++) ok = L.rows[r0 + i] == L.rows[r0] + i;
    if (ok) tap_c0[a] = L.rows[r0] / kk;
    any_taps = any_taps || ok;
    tap_w_off[a + 1] = tap_w_off[a] + (ok ? (int64_t)(C.out_off[a + 1] - C.out_off[a]) * nr : 0);
  }
  // The collapsed matrices of those arrays with their rows in tap-major order, [output][tap][channel],
  // and where each (tap, channel) row reads the padded planes: channel c's plane shifted by the tap.
  std::vector<float> tap_w(tap_w_off[L.arrays]), tap_v(C.variance ? tap_w.size() : 0);
  std::vector<int64_t> tap_shift(kk), tap_rows, tap_row_off(L.arrays, 0);
  for (int t = 0; t < kk; t++) tap_shift[t] = (int64_t)(t / g.k) * g.dil * Wp + (t % g.k) * g.dil;
  for (int a = 0; a < L.arrays; a++) {
    if (tap_c0[a] < 0) continue;
    const int nr = L.row_off[a + 1] - L.row_off[a], no = C.out_off[a + 1] - C.out_off[a], nch = nr / kk;
    for (int o = 0; o < no; o++)
      for (int t = 0; t < kk; t++)
        for (int c = 0; c < nch; c++) {
          const int64_t to = tap_w_off[a] + ((int64_t)o * kk + t) * nch + c, from = C.w_off[a] + (int64_t)o * nr + c * kk + t;
          tap_w[to] = C.weight[from];
          if (C.variance) tap_v[to] = C.variance[from];
        }
    tap_row_off[a] = (int64_t)tap_rows.size();
    for (int t = 0; t < kk; t++)
      for (int c = 0; c < nch; c++) tap_rows.push_back(c * padded_size + tap_shift[t]);
  }
  // Padded planes have slack for the discarded columns' reads past the last plane.
  const int64_t slack = (int64_t)g.dil * (g.k - 1) * (Wp + 1);
#pragma omp parallel
  {
    // Per image: the codes, each code's read-noise factor and the phases it drives. The buffers
    // live with the thread across layers: fresh ones would be new pages for every layer.
    thread_local std::vector<float> codes, code_var, input, var_in, cur, driven, acc, var, u1, u2, z, pad_codes,
        pad_var;
    thread_local std::vector<int32_t> code_mask, mask, pad_mask, chan_mask;
    for (auto* v : {&codes, &code_var}) v->resize(plane_size);
    for (auto* v : {&input, &var_in}) v->resize((size_t)max_nr * P);
    for (auto* v : {&acc, &var}) v->resize((size_t)g.oc * P);
    cur.resize((size_t)max_no * std::max(P, any_taps ? grid : 0));
    driven.resize(P);
    code_mask.resize(plane_size);
    mask.resize(std::max(P, any_taps ? grid : 0));
    if (any_taps) {
      pad_codes.assign(g.c * padded_size + slack, 0.f);
      pad_var.assign(pad_codes.size(), 0.f);
      pad_mask.assign(pad_codes.size(), 0);
      chan_mask.assign(padded_size + slack, 0);
    }
    // Copies one image's planes into the interior of the padded planes (the border stays 0).
    auto fill_padded = [&](const auto* src, auto* dst) {
      for (int c = 0; c < g.c; c++)
        for (int h = 0; h < g.h; h++)
          std::copy(src + ((int64_t)c * g.h + h) * g.w, src + ((int64_t)c * g.h + h + 1) * g.w,
                    dst + c * padded_size + (int64_t)(h + pad) * Wp + pad);
    };
    // out += Σ_taps W_t·(padded planes shifted by the tap) over array a's outputs, in one
    // product whose rows are read in place.
    auto tap_product = [&](int a, const float* W, const float* planes, float* out) {
      const int no = C.out_off[a + 1] - C.out_off[a], nr = L.row_off[a + 1] - L.row_off[a];
      gemm_rows(no, grid, nr, W + tap_w_off[a], nr, planes + (int64_t)tap_c0[a] * padded_size,
                tap_rows.data() + tap_row_off[a], cur.data(), grid);
      for (int tt = 0; tt < no; tt++) {
        float* o = out + (size_t)C.outputs[C.out_off[a] + tt] * P;
        const float* ct = cur.data() + (size_t)tt * grid;
        for (int oh = 0; oh < g.oh; oh++)
          for (int ow = 0; ow < g.ow; ow++) o[oh * g.ow + ow] += ct[oh * Wp + ow];
      }
    };
    // out += W·in over array a's outputs (float32 sums: see the error model in the tests).
    auto product = [&](int a, const float* W, const float* in, float* out) {
      const int nr = L.row_off[a + 1] - L.row_off[a], t0 = C.out_off[a], no = C.out_off[a + 1] - t0;
      if (consecutive[a]) {
        gemm(false, false, no, P, nr, 1.f, W + C.w_off[a], nr, in, P, 1.f, out + (size_t)C.outputs[t0] * P, P);
        return;
      }
      gemm(false, false, no, P, nr, 1.f, W + C.w_off[a], nr, in, P, 0.f, cur.data(), P);
      for (int t = 0; t < no; t++) {
        float* o = out + (size_t)C.outputs[t0 + t] * P;
        const float* ct = cur.data() + (size_t)t * P;
        for (int p = 0; p < P; p++) o[p] += ct[p];
      }
    };
    // The ADC's rounding variance of array a's outputs, from `driven`.
    auto add_rounding = [&](int a) {
      for (int t = C.out_off[a]; t < C.out_off[a + 1]; t++) {
        float* v = var.data() + (size_t)C.outputs[t] * P;
        const float r = C.rounding[t];
#pragma omp simd
        for (int p = 0; p < P; p++) v[p] += r * driven[p];
      }
    };
#pragma omp for schedule(static)
    for (int n = 0; n < g.n; n++) {
      std::fill(acc.begin(), acc.end(), 0.f);
      std::fill(var.begin(), var.end(), 0.f);
      input_codes(L, x + (int64_t)n * plane_size, codes.data());
      const float* cv = C.code_variance;
      const int32_t* cp = C.code_phases;
      const int cmin = L.code_min;
#pragma omp simd
      for (int64_t e = 0; e < plane_size; e++) {
        const int c = (int)codes[e] - cmin;
        code_var[e] = cv[c];
        code_mask[e] = cp[c];
      }
      if (any_taps) {
        fill_padded(codes.data(), pad_codes.data());
        fill_padded(code_var.data(), pad_var.data());
        fill_padded(code_mask.data(), pad_mask.data());
      }
      for (int a = 0; a < L.arrays; a++) {
        if (tap_c0[a] >= 0) {
          tap_product(a, tap_w.data(), pad_codes.data(), acc.data());
          if (C.variance) tap_product(a, tap_v.data(), pad_var.data(), var.data());
          if (L.adc_lsb[a] > 0) {
            // The phases any of the array's channels drives at a padded position, then over the
            // taps: the phases the array's rows drive at each output.
            const int nch = (L.row_off[a + 1] - L.row_off[a]) / kk;
            int32_t* __restrict__ any = chan_mask.data();
            std::copy_n(pad_mask.data() + (int64_t)tap_c0[a] * padded_size, padded_size + slack, any);
            for (int c = 1; c < nch; c++) {
              const int32_t* __restrict__ plane = pad_mask.data() + (int64_t)(tap_c0[a] + c) * padded_size;
#pragma omp simd
              for (int64_t e = 0; e < padded_size; e++) any[e] |= plane[e];
            }
            int32_t* __restrict__ m = mask.data();
            std::fill(m, m + grid, 0);
            for (int t = 0; t < kk; t++) {
              const int32_t* __restrict__ src = any + tap_shift[t];
#pragma omp simd
              for (int e = 0; e < grid; e++) m[e] |= src[e];
            }
            for (int oh = 0; oh < g.oh; oh++)
              for (int ow = 0; ow < g.ow; ow++) driven[oh * g.ow + ow] = phases_variance(mask[oh * Wp + ow]);
            add_rounding(a);
          }
          continue;
        }
        product(a, C.weight, gather_rows(L, a, codes.data(), input.data()), acc.data());
        if (C.variance) product(a, C.variance, gather_rows(L, a, code_var.data(), var_in.data()), var.data());
        if (L.adc_lsb[a] > 0) {
          // Σ planeWeight² over the phases that drive at least one of the array's rows.
          std::fill(mask.begin(), mask.end(), 0);
          or_rows(L, a, code_mask.data(), mask.data());
          for (int p = 0; p < P; p++) driven[p] = phases_variance(mask[p]);
          add_rounding(a);
        }
      }
      fill_normals(derive_seed(L.seed, {(uint32_t)(L.image_offset + n), kFastPathStream}), (size_t)g.oc * P, u1, u2,
                   z);
      for (int o = 0; o < g.oc; o++) {
        const double sc = L.out_scale[o];
        const double b = L.out_bias ? L.out_bias[o] : 0.0;
        float* yo = y + ((int64_t)n * g.oc + o) * P;
        const float* ao = acc.data() + (size_t)o * P;
        const float* vo = var.data() + (size_t)o * P;
        const float* zo = z.data() + (size_t)o * P;
#pragma omp simd
        for (int p = 0; p < P; p++) yo[p] = (float)((ao[p] + std::sqrt(vo[p]) * zo[p]) * sc + b);
      }
    }
  }
}

}  // namespace

void xbar_forward(const XbarLayer& L, const float* x, float* y, float* col_max) {
  if (L.collapsed) {
    collapsed_forward(L, x, y);
    return;
  }
  const ConvGeom& g = L.g;
  const int P = g.oh * g.ow;
  const int HW = g.h * g.w;
  int max_nr = 0, max_nc = 0;
  std::vector<Band> bands(L.col_off[L.arrays]);
  std::vector<char> banded(L.arrays);
  for (int a = 0; a < L.arrays; a++) {
    const int nr = L.row_off[a + 1] - L.row_off[a], c0 = L.col_off[a], nc = L.col_off[a + 1] - c0;
    max_nr = std::max(max_nr, nr);
    max_nc = std::max(max_nc, nc);
    int64_t work = 0;
    for (int j = 0; j < nc; j++) {
      const float* col = L.gm + L.g_off[a] + (size_t)j * nr;
      int lo = 0, hi = nr;
      while (lo < hi && col[lo] == 0.f) lo++;
      while (hi > lo && col[hi - 1] == 0.f) hi--;
      bands[c0 + j] = {lo, hi};
      work += hi - lo;
    }
    banded[a] = !L.read_var && (work * 4 < (int64_t)nc * nr || nc <= 2);
  }
  std::vector<float> maxes((size_t)omp_get_max_threads() * L.arrays, 0.f);
#pragma omp parallel
  {
    std::vector<float> codes((size_t)g.c * HW), input((size_t)max_nr * P), plane((size_t)max_nr * P), sq,
        cur((size_t)max_nc * P), var, row_sum(P), packed_g;
    std::vector<int> live;
    if (L.read_var) {
      sq.resize((size_t)max_nr * P);
      var.resize((size_t)max_nc * P);
    }
    std::vector<double> acc((size_t)g.oc * P);
    std::vector<float> u1, u2, z;
    float* my_max = maxes.data() + (size_t)omp_get_thread_num() * L.arrays;
#pragma omp for schedule(static)
    for (int n = 0; n < g.n; n++) {
      std::fill(acc.begin(), acc.end(), 0.0);
      input_codes(L, x + (int64_t)n * g.c * HW, codes.data());
      for (int a = 0; a < L.arrays; a++) {
        const int nr = L.row_off[a + 1] - L.row_off[a];
        const int c0 = L.col_off[a], nc = L.col_off[a + 1] - c0;
        const float* G = L.gm + L.g_off[a];
        const float lsb = L.adc_lsb[a];
        const float* in = gather_rows(L, a, codes.data(), input.data());
        for (int pl = 0; pl < L.n_planes; pl++) {
          const int32_t* spec = L.planes + 3 * pl;
          const bool identity = spec[0] == 0 && spec[1] == 0 && spec[2] >= std::max(-L.code_min, L.code_max);
          const float* pv = in;
          const bool lossy = lsb > 0;
          const bool noisy = L.read_var != nullptr;
          const bool offset = L.g0 != 0 && (lossy || col_max);
          int nl = nr;
          if (banded[a] && !offset) {
            // Sparse (block-diagonal) columns: each phase value is computed where it is used.
            banded_phase(spec, identity, in, G, nr, nc, P, bands.data() + c0, cur.data());
          } else {
          // Rows this phase drives (an undriven row adds nothing, noise included).
          live.clear();
          if (identity) {
            for (int i = 0; i < nr; i++) {
              const float* row = in + (size_t)i * P;
              for (int p = 0; p < P; p++)
                if (row[p] != 0.f) {
                  live.push_back(i);
                  break;
                }
            }
          } else {
            const int sign = spec[0], shift = spec[1], mask = spec[2];
            for (int i = 0; i < nr; i++) {
              const float* src = in + (size_t)i * P;
              float* dst = plane.data() + (size_t)i * P;
              int any = 0;
              // One loop per phase sign, branch-free, so that each vectorises.
              if (sign == 2) {  // a bit of the two's complement code
#pragma omp simd reduction(| : any)
                for (int p = 0; p < P; p++) {
                  const int val = ((int)src[p] >> shift) & mask;
                  dst[p] = (float)val;
                  any |= val;
                }
              } else if (sign > 0) {
#pragma omp simd reduction(| : any)
                for (int p = 0; p < P; p++) {
                  const int v = std::max((int)src[p], 0);
                  const int val = (v >> shift) & mask;
                  dst[p] = (float)val;
                  any |= val;
                }
              } else if (sign < 0) {
#pragma omp simd reduction(| : any)
                for (int p = 0; p < P; p++) {
                  const int v = std::max(-(int)src[p], 0);
                  const int val = (v >> shift) & mask;
                  dst[p] = (float)val;
                  any |= val;
                }
              } else {
#pragma omp simd reduction(| : any)
                for (int p = 0; p < P; p++) {
                  const int v = (int)src[p];
                  const int mag = (std::abs(v) >> shift) & mask;
                  const int val = v < 0 ? -mag : mag;
                  dst[p] = (float)val;
                  any |= mag;
                }
              }
              if (any) live.push_back(i);
            }
            pv = plane.data();
          }
          if (live.empty()) continue;
          nl = (int)live.size();
          if (banded[a]) {
            for (int j = 0; j < nc; j++) {
              float* cj = cur.data() + (size_t)j * P;
              std::fill(cj, cj + P, 0.f);
              const Band b = bands[c0 + j];
              const float* gj = G + (size_t)j * nr;
              for (int i = b.lo; i < b.hi; i++) {
                const float w = gj[i];
                if (w == 0.f) continue;
                const float* row = pv + (size_t)i * P;
#pragma omp simd
                for (int p = 0; p < P; p++) cj[p] += w * row[p];
              }
            }
          } else if (nl * 4 < nr * 3) {
            // Pack the live rows (and the matching conductances) so the GEMM skips the rest.
            if (pv != plane.data())
              for (int t = 0; t < nl; t++)
                std::copy(pv + (size_t)live[t] * P, pv + (size_t)(live[t] + 1) * P, plane.data() + (size_t)t * P);
            else
              for (int t = 0; t < nl; t++)
                if (live[t] != t)
                  std::copy(plane.data() + (size_t)live[t] * P, plane.data() + (size_t)(live[t] + 1) * P,
                            plane.data() + (size_t)t * P);
            packed_g.resize((size_t)nc * nl);
            for (int j = 0; j < nc; j++)
              for (int t = 0; t < nl; t++) packed_g[(size_t)j * nl + t] = G[(size_t)j * nr + live[t]];
            gemm(false, false, nc, P, nl, 1.f, packed_g.data(), nl, plane.data(), P, 0.f, cur.data(), P);
            if (noisy) {
              for (int j = 0; j < nc; j++)
                for (int t = 0; t < nl; t++)
                  packed_g[(size_t)j * nl + t] = L.read_var[L.g_off[a] + (size_t)j * nr + live[t]];
              for (size_t e = 0; e < (size_t)nl * P; e++) sq[e] = plane[e] * plane[e];
              gemm(false, false, nc, P, nl, 1.f, packed_g.data(), nl, sq.data(), P, 0.f, var.data(), P);
            }
            pv = plane.data();
          } else {
            gemm(false, false, nc, P, nr, 1.f, G, nr, pv, P, 0.f, cur.data(), P);
            if (noisy) {
              for (size_t e = 0; e < (size_t)nr * P; e++) sq[e] = pv[e] * pv[e];
              gemm(false, false, nc, P, nr, 1.f, L.read_var + L.g_off[a], nr, sq.data(), P, 0.f, var.data(), P);
            }
          }
          }
          if (offset) {
            // Row sums over all driven rows (packed rows are a prefix of pv when packing happened).
            const int rows = (pv == plane.data() && nl * 4 < nr * 3 && !banded[a]) ? nl : nr;
            std::fill(row_sum.begin(), row_sum.end(), 0.f);
            for (int i = 0; i < rows; i++)
              for (int p = 0; p < P; p++) row_sum[p] += pv[(size_t)i * P + p];
          }
          if (noisy) {
            fill_normals(derive_seed(L.seed, {(uint32_t)(L.image_offset + n), (uint32_t)a, (uint32_t)pl}),
                         (size_t)nc * P, u1, u2, z);
          }
          const double pw = L.plane_weight[pl];
          const double amin = L.adc_min, amax = L.adc_max;
          const double dlsb = lsb;
          const double inv_lsb = lossy ? 1.0 / dlsb : 0.0;
          const double g0 = L.g0;
          for (int j = 0; j < nc; j++) {
            double* out = acc.data() + (size_t)L.col_out[c0 + j] * P;
            const double w = L.col_weight[c0 + j] * pw;
            const double wl = w * dlsb;
            const float* cj = cur.data() + (size_t)j * P;
            const ColumnRead r{cj, noisy ? z.data() + (size_t)j * P : nullptr, noisy ? var.data() + (size_t)j * P : nullptr,
                               offset ? row_sum.data() : nullptr, g0, inv_lsb, amin, amax, w, wl};
            float m = col_max ? my_max[a] : 0.f;
            if (lossy)
              m = noisy ? (offset ? convert<true, true, true>(r, out, P, m) : convert<true, false, true>(r, out, P, m))
                        : (offset ? convert<false, true, true>(r, out, P, m) : convert<false, false, true>(r, out, P, m));
            else
              m = noisy ? (offset ? convert<true, true, false>(r, out, P, m) : convert<true, false, false>(r, out, P, m))
                        : (offset ? convert<false, true, false>(r, out, P, m) : convert<false, false, false>(r, out, P, m));
            if (col_max) my_max[a] = m;
          }
        }
      }
      for (int o = 0; o < g.oc; o++) {
        const double sc = L.out_scale[o];
        const double b = L.out_bias ? L.out_bias[o] : 0.0;
        float* yo = y + ((int64_t)n * g.oc + o) * P;
        const double* ao = acc.data() + (size_t)o * P;
        for (int p = 0; p < P; p++) yo[p] = (float)(ao[p] * sc + b);
      }
    }
  }
  if (col_max)
    for (size_t t = 0; t < maxes.size() / std::max(1, L.arrays); t++)
      for (int a = 0; a < L.arrays; a++) col_max[a] = std::max(col_max[a], maxes[t * L.arrays + a]);
}

}  // namespace mh
