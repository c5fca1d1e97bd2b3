// Crossbar forward of one layer (see XbarLayer in src/engine/kernels/types.ts, whose
// TypeScript twin src/engine/kernels/xbar-ts.ts is the reference).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels.h"

namespace mh {

// A layer's arrays collapsed for the fast noisy path (CollapsedArrays in types.ts).
struct Collapsed {
  const int32_t* out_off;
  const int32_t* outputs;
  const int32_t* w_off;
  const float* weight;
  const float* variance;  // may be null
  const float* rounding;
  const float* code_variance;
  const int32_t* code_phases;
  const float* phase_variance;
};

struct XbarLayer {
  ConvGeom g;
  double in_scale;
  bool relu_in;
  int code_min, code_max;
  int arrays;
  const int32_t* row_off;
  const int32_t* rows;
  const int32_t* col_off;
  const int32_t* col_out;
  const float* col_weight;
  const int32_t* g_off;
  const float* gm;
  const float* read_var;  // may be null
  const float* adc_lsb;
  int adc_min, adc_max;  // ADC code range (negative minimum: bipolar)
  double g0;
  const int32_t* planes;  // [sign, shift, mask] per DAC phase; sign 2: bit `shift` of the two's complement code
  int n_planes;
  const float* plane_weight;
  const double* out_scale;
  const float* out_bias;  // may be null
  uint32_t seed;
  int image_offset;
  const Collapsed* collapsed = nullptr;  // set: the fast noisy path
};

void xbar_forward(const XbarLayer& L, const float* x, float* y, float* col_max);

// The first `count` read-noise normals of stream `seed` (src/util/normals.ts) into z; u1 and
// u2 are scratch.
void fill_normals(uint32_t seed, size_t count, std::vector<float>& u1, std::vector<float>& u2, std::vector<float>& z);

}  // namespace mh
