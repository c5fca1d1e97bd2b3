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

// xoshiro128** seeded by splitmix32, as src/util/rng.ts.
struct Rng {
  uint32_t s[4];
  bool has_spare = false;
  double spare = 0;
  explicit Rng(uint32_t seed) {
    uint32_t x = seed;
    for (auto& w : s) {
      x += 0x9e3779b9u;
      uint32_t z = x;
      z = (z ^ (z >> 16)) * 0x85ebca6bu;
      z = (z ^ (z >> 13)) * 0xc2b2ae35u;
      w = z ^ (z >> 16);
    }
    if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 1;
  }
  static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
  uint32_t next() {
    const uint32_t result = rotl(s[1] * 5, 7) * 9;
    const uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
  double uniform() { return next() / 4294967296.0; }
  double normal() {
    if (has_spare) {
      has_spare = false;
      return spare;
    }
    double u = 0;
    while (u == 0) u = uniform();
    const double v = uniform();
    const double r = std::sqrt(-2 * std::log(u));
    spare = r * std::sin(2 * M_PI * v);
    has_spare = true;
    return r * std::cos(2 * M_PI * v);
  }
};

inline float phase_value(const int32_t* pl, float code) {
  const int v = (int)code;
  const int sign = pl[0];
  if (v == 0 || (sign > 0 && v < 0) || (sign < 0 && v > 0)) return 0.f;
  const int mag = (std::abs(v) >> pl[1]) & pl[2];
  return (float)(sign == 0 && v < 0 ? -mag : mag);
}

inline float input_code(const XbarLayer& L, float x) {
  if (L.relu_in && x < 0) x = 0;
  const double t = (double)x / L.in_scale;
  const double r = t < 0 ? -std::floor(-t + 0.5) : std::floor(t + 0.5);
  return (float)std::min((double)L.code_max, std::max((double)L.code_min, r));
}

}  // namespace

void xbar_forward(const XbarLayer& L, const float* x, float* y, float* col_max) {
  const ConvGeom& g = L.g;
  const int P = g.oh * g.ow;
  const int kk = g.k * g.k;
  int max_nr = 0, max_nc = 0;
  for (int a = 0; a < L.arrays; a++) {
    max_nr = std::max(max_nr, L.row_off[a + 1] - L.row_off[a]);
    max_nc = std::max(max_nc, L.col_off[a + 1] - L.col_off[a]);
  }
  std::vector<float> maxes((size_t)omp_get_max_threads() * L.arrays, 0.f);
#pragma omp parallel
  {
    std::vector<float> input((size_t)max_nr * P), plane((size_t)max_nr * P), sq, cur((size_t)max_nc * P), var,
        row_sum(P);
    if (L.read_var) {
      sq.resize((size_t)max_nr * P);
      var.resize((size_t)max_nc * P);
    }
    std::vector<double> acc((size_t)g.oc * P);
    float* my_max = maxes.data() + (size_t)omp_get_thread_num() * L.arrays;
#pragma omp for schedule(static)
    for (int n = 0; n < g.n; n++) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int a = 0; a < L.arrays; a++) {
        const int r0 = L.row_off[a], nr = L.row_off[a + 1] - r0;
        const int c0 = L.col_off[a], nc = L.col_off[a + 1] - c0;
        const float* G = L.gm + L.g_off[a];
        const float lsb = L.adc_lsb[a];
        // im2col of the array's rows
        for (int i = 0; i < nr; i++) {
          const int r = L.rows[r0 + i];
          const int c = r / kk, kh = (r % kk) / g.k, kw = r % g.k;
          const float* xc = x + ((int64_t)n * g.c + c) * g.h * g.w;
          float* dst = input.data() + (size_t)i * P;
          for (int oh = 0; oh < g.oh; oh++) {
            const int ih = oh * g.stride - g.pad + kh * g.dil;
            for (int ow = 0; ow < g.ow; ow++) {
              const int iw = ow * g.stride - g.pad + kw * g.dil;
              dst[oh * g.ow + ow] =
                  (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) ? 0.f : input_code(L, xc[ih * g.w + iw]);
            }
          }
        }
        for (int pl = 0; pl < L.n_planes; pl++) {
          const int32_t* spec = L.planes + 3 * pl;
          bool any = false;
          for (size_t e = 0; e < (size_t)nr * P; e++) {
            const float v = phase_value(spec, input[e]);
            plane[e] = v;
            any |= v != 0.f;
          }
          const bool lossy = lsb > 0;
          const bool noisy = L.read_var != nullptr;
          // An all-zero phase drives nothing: no current, no noise, ADC reads 0.
          if (!any) continue;
          gemm(false, false, nc, P, nr, 1.f, G, nr, plane.data(), P, 0.f, cur.data(), P);
          if (noisy) {
            for (size_t e = 0; e < (size_t)nr * P; e++) sq[e] = plane[e] * plane[e];
            gemm(false, false, nc, P, nr, 1.f, L.read_var + L.g_off[a], nr, sq.data(), P, 0.f, var.data(), P);
          }
          const bool offset = L.g0 != 0 && (lossy || col_max);
          if (offset) {
            std::fill(row_sum.begin(), row_sum.end(), 0.f);
            for (int i = 0; i < nr; i++)
              for (int p = 0; p < P; p++) row_sum[p] += plane[(size_t)i * P + p];
          }
          Rng rng(noisy ? derive_seed(L.seed, {(uint32_t)(L.image_offset + n), (uint32_t)a, (uint32_t)pl}) : 1);
          const double pw = L.plane_weight[pl];
          for (int j = 0; j < nc; j++) {
            double* out = acc.data() + (size_t)L.col_out[c0 + j] * P;
            const double w = L.col_weight[c0 + j] * pw;
            const float* cj = cur.data() + (size_t)j * P;
            for (int p = 0; p < P; p++) {
              double s = cj[p];
              if (noisy) s += std::sqrt((double)var[(size_t)j * P + p]) * rng.normal();
              // Every driven device adds its Gmin current; a pair's two columns cancel it
              // exactly unless the ADC rounds them apart.
              const double adc_in = offset ? s + L.g0 * row_sum[p] : s;
              if (adc_in > my_max[a]) my_max[a] = (float)adc_in;
              if (lossy) s = std::min((double)L.adc_max, std::max(0.0, std::floor(adc_in / lsb + 0.5))) * lsb;
              out[p] += w * s;
            }
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
