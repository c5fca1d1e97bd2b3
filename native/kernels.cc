// Native kernels of the engine. Work is split into a fixed number of parts (never by the
// number of threads), and partial sums are added in part order, so results are
// bit-identical whatever the thread count or scheduling.
#include "kernels.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#ifdef MEMHYPER_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

namespace mh {

static int g_threads = 0;

void set_threads(int t) {
  g_threads = t > 0 ? t : omp_get_num_procs();
  omp_set_num_threads(g_threads);
#ifdef MEMHYPER_OPENBLAS
  openblas_set_num_threads(1);  // we parallelise outside the GEMM
#endif
}

int threads() { return g_threads; }

bool has_blas() {
#ifdef MEMHYPER_OPENBLAS
  return true;
#else
  return false;
#endif
}

// One native SIMD register of floats. Vector types wider than the machine's registers
// are lowered through the stack by GCC (3.7 GFLOP/s instead of ~30 on AVX2), so the
// width follows the target: 16 lanes with AVX-512, 8 with AVX, 4 otherwise.
#if defined(__AVX512F__)
static constexpr int kLanes = 16;
#elif defined(__AVX__)
static constexpr int kLanes = 8;
#else
static constexpr int kLanes = 4;
#endif
typedef float vf __attribute__((vector_size(kLanes * sizeof(float))));
static inline vf loadv(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
static inline void storev(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
// A vector of L ≤ kLanes floats (half a register for the 8-wide maps on AVX-512).
template <int L>
struct Lanes {
  typedef float V __attribute__((vector_size(L * sizeof(float))));
  static V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
  static float sum(V v) {
    float lanes[L];
    store(lanes, v);
    float s = 0.f;
    for (float x : lanes) s += x;
    return s;
  }
};
static inline float hsum(vf v) {
  float s = 0.f;
  for (int i = 0; i < kLanes; i++) s += v[i];
  return s;
}

// C (+)= A·B for few rows m and a short inner dimension k over long rows n (1×1 and
// im2col convolutions, narrow crossbar tiles), where OpenBLAS spends more time packing than
// multiplying. A[i][p] = a[i·ars + p·acs], so Aᵀ costs nothing. Register tiles of R rows
// × 2 vectors; a scalar loop for the last columns.
// Measured against OpenBLAS 0.3.21: on AVX-512 (twice the registers, 12-row tiles) faster on
// every convolution of the networks, up to k 576 and m 144 (2× on 144×144 at 8×8, 1.8× on
// 36×144 at 32×32), so there the limits only keep the square products BLAS packs well (B at
// most 1 MiB, read once per row tile). On AVX2 the limits are those it was tuned under (k 128,
// m 64). Since the B packing the kernel alone is faster beyond them too (session 17: 1.1–1.4×
// on k 144–576 at 8×8 and 16×16, one thread), but the C=36 inference step with AVX-512's
// limits measured no gain beyond the noise (in-process A/B, 0.96–1.03×), so they stay.
#if defined(__AVX512F__)
static constexpr int kSmallKMax = 1024, kSmallMMax = 256;
static constexpr int64_t kSmallBMax = 1 << 18;
#else
static constexpr int kSmallKMax = 128, kSmallMMax = 64;
static constexpr int64_t kSmallBMax = std::numeric_limits<int64_t>::max();  // k alone bounds B
#endif
static constexpr int kTileRows = kLanes == 16 ? 12 : 6;
static constexpr int kSmallKBlockFloats = (16 << 10) / sizeof(float);  // packed B per block: 16 KiB
static constexpr int kPackMinLdb = 512;  // B rows from 2 KiB apart are packed (32×32 maps; 16×16 gain nothing)
static constexpr int kTileCols = 2 * kLanes;

// B's strips of kTileCols columns lie `bstep` floats apart (kTileCols for a row-major B,
// k·kTileCols for one packed strip by strip), rows ldb apart within a strip.
// c0 (may be null): each row's initial value where C is not accumulated into, as if C had
// been filled with it (a bias), without the pass over C.
// add (may be null; laid out as C): added to each finished value as it is stored, the one
// rounding a separate sum of C and it would make.
// Where row p of B starts: p·ldb in a matrix, or a table of offsets (the shifted input planes
// of a convolution's taps, read in place).
struct StridedRows {
  int64_t ldb;
  int64_t operator()(int p) const { return (int64_t)p * ldb; }
};
struct TableRows {
  const int64_t* off;
  int64_t operator()(int p) const { return off[p]; }
};
template <int R, typename Rows = StridedRows>
static void small_k_rows(int n, int k, const float* __restrict__ a, int64_t ars, int64_t acs,
                         const float* __restrict__ b, Rows rows, int64_t bstep, float* __restrict__ c, int ldc,
                         bool accumulate, const float* c0, const float* __restrict__ add) {
  int j = 0;
  for (; j + kTileCols <= n; j += kTileCols) {
    const float* bs = b + (j / kTileCols) * bstep;
    vf acc[R][2];
    for (int r = 0; r < R; r++) {
      const vf init = c0 ? vf{} + c0[r] : vf{};
      acc[r][0] = accumulate ? loadv(c + (int64_t)r * ldc + j) : init;
      acc[r][1] = accumulate ? loadv(c + (int64_t)r * ldc + j + kLanes) : init;
    }
    for (int p = 0; p < k; p++) {
      const float* bp = bs + rows(p);
      const vf b0 = loadv(bp), b1 = loadv(bp + kLanes);
      for (int r = 0; r < R; r++) {
        const float ar = a[r * ars + p * acs];
        acc[r][0] += ar * b0;
        acc[r][1] += ar * b1;
      }
    }
    if (add)
      for (int r = 0; r < R; r++) {
        acc[r][0] += loadv(add + (int64_t)r * ldc + j);
        acc[r][1] += loadv(add + (int64_t)r * ldc + j + kLanes);
      }
    for (int r = 0; r < R; r++) {
      storev(c + (int64_t)r * ldc + j, acc[r][0]);
      storev(c + (int64_t)r * ldc + j + kLanes, acc[r][1]);
    }
  }
  for (; j < n; j++)
    for (int r = 0; r < R; r++) {
      float sum = accumulate ? c[(int64_t)r * ldc + j] : c0 ? c0[r] : 0.f;
      for (int p = 0; p < k; p++) sum += a[r * ars + p * acs] * b[rows(p) + j];
      c[(int64_t)r * ldc + j] = add ? sum + add[(int64_t)r * ldc + j] : sum;
    }
}
template <typename Rows>
using SmallKFn = void (*)(int, int, const float*, int64_t, int64_t, const float*, Rows, int64_t, float*, int, bool,
                          const float*, const float*);
template <typename Rows, int... I>
static constexpr std::array<SmallKFn<Rows>, sizeof...(I)> small_k_table(std::integer_sequence<int, I...>) {
  return {&small_k_rows<I + 1, Rows>...};
}
static constexpr auto kSmallK = small_k_table<StridedRows>(std::make_integer_sequence<int, kTileRows>{});
static constexpr auto kSmallKTable = small_k_table<TableRows>(std::make_integer_sequence<int, kTileRows>{});

static inline bool small_k_fits(int m, int n, int k) {
  return n >= kTileCols && k <= kSmallKMax && m <= kSmallMMax && (int64_t)k * n <= kSmallBMax;
}

// c0 (with beta 0, may be null): row i of C starts from c0[i] instead of 0. add (with beta 0,
// may be null, laid out as C): C = A·B + add, rounded as the product then the sum.
static bool small_k_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                         const float* b, int ldb, float beta, float* c, int ldc, const float* c0 = nullptr,
                         const float* add = nullptr) {
  if (tb || alpha != 1.f || (beta != 0.f && beta != 1.f) || !small_k_fits(m, n, k)) return false;
  const int64_t ars = ta ? 1 : lda, acs = ta ? lda : 1;
  // Row tiles as even as the register budget allows (16 rows: 8 + 8, not 12 + 4).
  const int tiles = (m + kTileRows - 1) / kTileRows;
  const bool acc = beta == 1.f;
  auto row_tiles = [&](int cols, const float* bj, int ldbj, int64_t bstep, int j0) {
    for (int t = 0, i = 0; t < tiles; t++) {
      const int rows = (m - i) / (tiles - t);
      const int64_t at = (int64_t)i * ldc + j0;
      kSmallK[rows - 1](cols, k, a + i * ars, ars, acs, bj, StridedRows{ldbj}, bstep, c + at, ldc, acc, c0 ? c0 + i : nullptr,
                        add ? add + at : nullptr);
      i += rows;
    }
  };
  if (ldb < kPackMinLdb) {
    row_tiles(n, b, ldb, kTileCols, 0);
    return true;
  }
  // Long rows of B (1×1 convolutions of 32×32 maps): a tile's k loads per column step come
  // from k rows 2 KiB or more apart, k memory streams at once, and the kernel ran at under
  // half its speed on 16×16 maps (1×1, 16 channels at 32×32 against 32 at 16×16: the same
  // FLOPs). So B is packed block by block, each strip of kTileCols columns a contiguous
  // k×kTileCols slice, and the row tiles read the block from L1 (1×1 convolutions at 32×32:
  // 1.1–1.3× alone, one thread or two). Same sums in the same order.
  thread_local std::vector<float> panel;
  const int strips = n / kTileCols;
  const int per_block = std::max(1, kSmallKBlockFloats / (k * kTileCols));
  panel.resize((size_t)k * kTileCols * std::min(per_block, strips));
  for (int s0 = 0; s0 < strips; s0 += per_block) {
    const int ns = std::min(per_block, strips - s0);
    for (int p = 0; p < k; p++)
      for (int s = 0; s < ns; s++)
        std::memcpy(panel.data() + ((int64_t)s * k + p) * kTileCols, b + (int64_t)p * ldb + (s0 + s) * kTileCols,
                    sizeof(float) * kTileCols);
    row_tiles(ns * kTileCols, panel.data(), kTileCols, (int64_t)k * kTileCols, s0 * kTileCols);
  }
  if (strips * kTileCols < n)
    row_tiles(n - strips * kTileCols, b + strips * kTileCols, ldb, kTileCols, strips * kTileCols);
  return true;
}

void gemm_rows(int m, int n, int k, const float* a, int lda, const float* b, const int64_t* row_off, float* c,
               int ldc) {
  // Row tiles as even as the register budget allows, as in small_k_gemm; B is read in place.
  const int tiles = (m + kTileRows - 1) / kTileRows;
  for (int t = 0, i = 0; t < tiles; t++) {
    const int rows = (m - i) / (tiles - t);
    kSmallKTable[rows - 1](n, k, a + (int64_t)i * lda, lda, 1, b, TableRows{row_off}, kTileCols, c + (int64_t)i * ldc,
                           ldc, false, nullptr, nullptr);
    i += rows;
  }
}

void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
          float beta, float* c, int ldc) {
  if (small_k_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
#ifdef MEMHYPER_OPENBLAS
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b,
              ldb, beta, c, ldc);
#else
  for (int i = 0; i < m; i++) {
    float* ci = c + (int64_t)i * ldc;
    if (beta == 0.f) std::fill(ci, ci + n, 0.f);
    else if (beta != 1.f) for (int j = 0; j < n; j++) ci[j] *= beta;
    if (!tb) {
      for (int p = 0; p < k; p++) {
        const float av = alpha * (ta ? a[(int64_t)p * lda + i] : a[(int64_t)i * lda + p]);
        const float* bp = b + (int64_t)p * ldb;
        for (int j = 0; j < n; j++) ci[j] += av * bp[j];
      }
    } else {
      for (int j = 0; j < n; j++) {
        const float* bj = b + (int64_t)j * ldb;
        float s = 0.f;
        if (!ta) {
          const float* ai = a + (int64_t)i * lda;
          for (int p = 0; p < k; p++) s += ai[p] * bj[p];
        } else {
          for (int p = 0; p < k; p++) s += a[(int64_t)p * lda + i] * bj[p];
        }
        ci[j] += alpha * s;
      }
    }
  }
#endif
}

// Fixed partition of [0, total) into `parts` ranges.
static inline int part_begin(int total, int parts, int i) { return (int)((int64_t)total * i / parts); }

static constexpr int kBatchParts = 8;

template <bool Relu, bool Quantize>
static void map_loop(const InputMap& m, const float* __restrict__ src, float* __restrict__ dst, int64_t n) {
  const float sc = m.scale, lo = m.lo, hi = m.hi;
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float v = Relu && src[i] < 0.f ? 0.f : src[i];
    dst[i] = Quantize ? InputMap::code(v, sc, lo, hi) : v;
  }
}

void map_inputs(const InputMap& m, const float* src, float* dst, int64_t n) {
  if (m.quantize) m.relu ? map_loop<true, true>(m, src, dst, n) : map_loop<false, true>(m, src, dst, n);
  else m.relu ? map_loop<true, false>(m, src, dst, n) : map_loop<false, false>(m, src, dst, n);
}

// im2col of channels [c0, c0+cg) of one image: rows (ci, kh, kw), columns (oh, ow).
static void im2col(const ConvGeom& g, const float* x, int c0, int cg, float* cols, const InputMap& m) {
  const int P = g.oh * g.ow;
  for (int ci = 0; ci < cg; ci++) {
    const float* xp = x + (int64_t)(c0 + ci) * g.h * g.w;
    for (int kh = 0; kh < g.k; kh++) {
      for (int kw = 0; kw < g.k; kw++) {
        float* row = cols + ((int64_t)(ci * g.k + kh) * g.k + kw) * P;
        for (int oh = 0; oh < g.oh; oh++) {
          const int ih = oh * g.stride - g.pad + kh * g.dil;
          float* r = row + oh * g.ow;
          if (ih < 0 || ih >= g.h) {
            std::fill(r, r + g.ow, 0.f);
            continue;
          }
          const float* xr = xp + (int64_t)ih * g.w;
          for (int ow = 0; ow < g.ow; ow++) {
            const int iw = ow * g.stride - g.pad + kw * g.dil;
            const float v = (iw >= 0 && iw < g.w) ? xr[iw] : 0.f;
            r[ow] = m.active() ? m(v) : v;
          }
        }
      }
    }
  }
}

static void col2im_add(const ConvGeom& g, const float* cols, int c0, int cg, float* dx) {
  const int P = g.oh * g.ow;
  for (int ci = 0; ci < cg; ci++) {
    float* dp = dx + (int64_t)(c0 + ci) * g.h * g.w;
    for (int kh = 0; kh < g.k; kh++) {
      for (int kw = 0; kw < g.k; kw++) {
        const float* row = cols + ((int64_t)(ci * g.k + kh) * g.k + kw) * P;
        for (int oh = 0; oh < g.oh; oh++) {
          const int ih = oh * g.stride - g.pad + kh * g.dil;
          if (ih < 0 || ih >= g.h) continue;
          float* dr = dp + (int64_t)ih * g.w;
          const float* r = row + oh * g.ow;
          for (int ow = 0; ow < g.ow; ow++) {
            const int iw = ow * g.stride - g.pad + kw * g.dil;
            if (iw >= 0 && iw < g.w) dr[iw] += r[ow];
          }
        }
      }
    }
  }
}

static inline bool is_pointwise(const ConvGeom& g) { return g.k == 1 && g.stride == 1 && g.pad == 0 && g.groups == 1; }
static inline bool is_depthwise(const ConvGeom& g) { return g.groups == g.c && g.oc == g.c && g.groups > 1; }

// Copies one plane, through ReLU when asked, into the interior of a (h+2p)×(w+2p) buffer
// whose margins are already zero: each caller's buffer is zeroed when allocated and only ever
// written here, plane after plane at the same positions, so the margins stay zero without a
// fill per plane (depthwise alone, 8×8 to 32×32: forward 1.10–1.16×, backward 1.04–1.05×).
static void pad_plane(const float* __restrict__ x, int h, int w, int p, const InputMap& m, float* __restrict__ out) {
  const int wp = w + 2 * p;
  for (int i = 0; i < h; i++) {
    const float* __restrict__ src = x + (int64_t)i * w;
    float* __restrict__ dst = out + (int64_t)(i + p) * wp + p;
    if (m.quantize) {
      map_inputs(m, src, dst, w);
    } else if (m.relu) {
      for (int j = 0; j < w; j++) dst[j] = src[j] > 0.f ? src[j] : 0.f;
    } else {
      std::memcpy(dst, src, sizeof(float) * w);
    }
  }
}

// Depthwise convolution of one plane on the "padded-width grid": with P the zero-padded
// input of row width wp, the stride-1 output at flat index i = r·wp + c is
// Σ_taps w[t]·P[i + off_t] (off_t = kh·d·wp + kw·d). Every tap is then one long contiguous
// loop over the whole plane, which vectorises whatever the plane size; strided outputs
// are read off the grid, and the few columns past the valid width are ignored.
struct DwGrid {
  int wp, rows, cols, len;  // padded width, stride-1 output rows/cols, flat grid length
};

static inline DwGrid dw_grid(const ConvGeom& g) {
  DwGrid q;
  q.wp = g.w + 2 * g.pad;
  const int span = g.dil * (g.k - 1) + 1;
  q.rows = g.h + 2 * g.pad - span + 1;
  q.cols = q.wp - span + 1;
  q.len = (q.rows - 1) * q.wp + q.cols;
  return q;
}

static constexpr int kDwBlock = 32;  // grid values kept in registers while all taps accumulate

static constexpr int kVecs = kDwBlock / kLanes;  // registers per block
// Taps whose kernel-gradient accumulators stay in registers at once (32 or 16 registers).
static constexpr int kTapChunk = kLanes == 16 ? 25 : 13;

// dW[t] += Σ_i G[i]·P[i + off_t] for TC taps, each accumulator one register.
template <int TC>
static void dw_grad_chunk(const float* __restrict__ G, const float* __restrict__ P, const int* offs, int len,
                          float* __restrict__ dwk) {
  vf acc[TC] = {};
  for (int i0 = 0; i0 < len; i0 += kLanes) {
    const vf gv = loadv(G + i0);
    for (int t = 0; t < TC; t++) acc[t] += gv * loadv(P + offs[t] + i0);
  }
  for (int t = 0; t < TC; t++) dwk[t] += hsum(acc[t]);
}
using GradChunkFn = void (*)(const float*, const float*, const int*, int, float*);
template <int... I>
static constexpr std::array<GradChunkFn, sizeof...(I)> grad_chunk_table(std::integer_sequence<int, I...>) {
  return {&dw_grad_chunk<I + 1>...};
}
static constexpr auto kGradChunk = grad_chunk_table(std::make_integer_sequence<int, kTapChunk>{});

// The backward pass stacks several images' planes of one channel, each zero-padded plane
// right after the last, into one tall grid: a tap never reaches from one plane's valid
// outputs into another plane, so the grid sums run over the whole stack at once and small
// planes (16×16, 8×8) pay the per-plane setup once per stack (backward 10–30 % faster on
// the networks' shapes). The forward pass keeps one plane per grid in memory order: there
// gathering one channel across images cost more than it saved (measured on AVX-512). The
// stack size depends on the geometry alone.
static constexpr size_t kDwStackFloats = 4096;
static inline int dw_stack(const ConvGeom& g, size_t padded) {
  return std::max(1, std::min(g.n, (int)(kDwStackFloats / padded)));
}

static inline void dw_offsets(const ConvGeom& g, const DwGrid& q, int* offs) {
  for (int t = 0; t < g.k * g.k; t++) offs[t] = (t / g.k) * g.dil * q.wp + (t % g.k) * g.dil;
}

// grid[i] = Σ_t w[t]·P[i + off_t] for i < len; P has kDwBlock floats of slack past its end.
static void dw_forward_grid(int taps, const int* offs, const float* __restrict__ P, int len,
                            const float* __restrict__ wk, float* __restrict__ grid) {
  for (int i0 = 0; i0 < len; i0 += kDwBlock) {
    vf a[kVecs] = {};
    for (int t = 0; t < taps; t++) {
      const float* src = P + offs[t] + i0;
      const float wt = wk[t];
      for (int v = 0; v < kVecs; v++) a[v] += wt * loadv(src + v * kLanes);
    }
    for (int v = 0; v < kVecs; v++) storev(grid + i0 + v * kLanes, a[v]);
  }
}

// Row kernels. Planes with "same" padding whose input rows are half a register, one or two
// registers wide (32×32, 16×16 and 8×8 with AVX-512) run row by row instead of on the grid,
// R output rows at a time: output row r with tap row kh reads input row r + kh·d, so R rows
// share each loaded input vector among their taps (for 3×3 and R = 4: 18 loads for 36 FMAs
// instead of 36), and the outputs land in the plane directly, with no grid to copy from.
// Each output still adds its taps in tap order, so the result has the bits of the grid
// kernel. With stride 2 (ST), output row r reads input rows 2r + kh·d: the band computes
// those rows' stride-1 values and keeps every other column, half the work of the whole
// stride-1 grid.
// Rows are W floats wide: VR vectors of L lanes.
template <int W>
struct RowShape {
  static constexpr int L = W < kLanes ? W : kLanes, VR = W / L;
  using Vec = Lanes<L>;
};

// The loop all row kernels share: each input row u of a band (0 ≤ u < ST·(R−1) + (K−1)·d + 1)
// at each column tap kw is loaded once (`load(u, kw, v)` fills VR vectors) and handed to
// every band row r that reads it, r's tap row being kh = (u − ST·r)/d (`use(r, tap, v)`).
// Each band row meets its taps in tap order. After unrolling the tests fold away.
template <int K, int D, int W, int R, int ST, typename Load, typename Use>
static inline void dw_band(Load load, Use use) {
  using V = typename RowShape<W>::Vec::V;
  constexpr int U = ST * (R - 1) + (K - 1) * D + 1;
#pragma GCC unroll 16
  for (int u = 0; u < U; u++) {
#pragma GCC unroll 8
    for (int kw = 0; kw < K; kw++) {
      V v[RowShape<W>::VR];
      load(u, kw, v);
#pragma GCC unroll 4
      for (int r = 0; r < R; r++) {
        const int e = u - ST * r;  // kh·d
        if (e < 0 || e % D != 0 || e / D >= K) continue;
        use(r, (e / D) * K + kw, v);
      }
    }
  }
}

// CD = −1 reads the taps' columns leftwards (the input gradient below).
template <int K, int D, int W, int R, int ST, int CD = 1>
static inline void dw_rows_band(const float* __restrict__ P, int wp, const float* __restrict__ wk,
                                float* __restrict__ out, int ostride) {
  using Shape = RowShape<W>;
  using V = typename Shape::Vec::V;
  constexpr int VR = Shape::VR, L = Shape::L;
  V a[R][VR] = {};
  dw_band<K, D, W, R, ST>(
      [&](int u, int kw, V* v) {
        for (int j = 0; j < VR; j++) v[j] = Shape::Vec::load(P + u * wp + CD * kw * D + j * L);
      },
      [&](int r, int t, const V* v) {
        for (int j = 0; j < VR; j++) a[r][j] += wk[t] * v[j];
      });
  for (int r = 0; r < R; r++) {
    if constexpr (ST == 1) {
      for (int j = 0; j < VR; j++) Shape::Vec::store(out + r * ostride + j * L, a[r][j]);
    } else {
      float row[W];
      for (int j = 0; j < VR; j++) Shape::Vec::store(row + j * L, a[r][j]);
      for (int c = 0; c < W / ST; c++) out[r * ostride + c] = row[ST * c];
    }
  }
}

// Output rows per band: four, or two where a row is four registers (32×32 maps on AVX2),
// so that the band's accumulators leave registers for the loaded row (16 of 16 would spill).
template <int W>
static constexpr int kBandRows = RowShape<W>::VR >= 4 ? 2 : 4;

// `rows` output rows.
template <int K, int D, int W, int ST>
static void dw_forward_rows(const float* P, int wp, int rows, const float* wk, float* out, int ostride) {
  constexpr int R = kBandRows<W>;
  int r = 0;
  for (; r + R <= rows; r += R)
    dw_rows_band<K, D, W, R, ST>(P + ST * r * wp, wp, wk, out + r * ostride, ostride);
  for (; r < rows; r++) dw_rows_band<K, D, W, 1, ST>(P + ST * r * wp, wp, wk, out + r * ostride, ostride);
}


// The input gradient row by row in the same way, for the same geometries: with G the
// stride-1 grid of dy (zeros around it), dx[r][c] = Σ w[kh][kw]·G[r + p − kh·d][c + p − kw·d];
// Gp points at G's element (p, p). It is the forward band run mirrored: rows upwards from
// the band's last (negative row and output strides), columns leftwards, so input rows are
// visited from the highest down and each output again adds its taps in tap order.
template <int K, int D, int W>
static void dw_dx_rows(const float* Gp, int wp, int rows, const float* wk, float* out, int ostride) {
  constexpr int R = kBandRows<W>;
  int r = 0;
  for (; r + R <= rows; r += R)
    dw_rows_band<K, D, W, R, 1, -1>(Gp + (r + R - 1) * wp, -wp, wk, out + (r + R - 1) * ostride, -ostride);
  for (; r < rows; r++) dw_rows_band<K, D, W, 1, 1, -1>(Gp + r * wp, -wp, wk, out + r * ostride, -ostride);
}

// The kernel gradient row by row, stride 1: dW[kh][kw] += Σ_r Σ_c dy[r][c]·P[r + kh·d][c + kw·d]
// over the m padded planes P of a stack (`padded` floats apart) and their dy planes
// (dy_stride apart), read in place. R dy rows stay in registers while every input row
// they meet is loaded once and multiplied into each tap that pairs them (for 3×3 and R = 4:
// 44 loads for 72 FMAs, against 80 on the grid), one accumulator per tap, summed across
// lanes once per stack. No grid: the zero columns and rows between planes cost nothing.
template <int K>
static constexpr int kDwGradRows = kLanes == 16 ? (K == 3 ? 4 : 2) : (K == 3 ? 2 : 0);

template <int K, int D, int W, int R>
static inline void dw_grad_band(const float* __restrict__ P, int wp, const float* __restrict__ dy,
                                typename RowShape<W>::Vec::V* __restrict__ acc) {
  using Shape = RowShape<W>;
  using V = typename Shape::Vec::V;
  constexpr int VR = Shape::VR, L = Shape::L;
  V g[R][VR];
  for (int r = 0; r < R; r++)
    for (int j = 0; j < VR; j++) g[r][j] = Shape::Vec::load(dy + r * W + j * L);
  dw_band<K, D, W, R, 1>(
      [&](int u, int kw, V* v) {
        for (int j = 0; j < VR; j++) v[j] = Shape::Vec::load(P + u * wp + kw * D + j * L);
      },
      [&](int r, int t, const V* v) {
        for (int j = 0; j < VR; j++) acc[t] += g[r][j] * v[j];
      });
}

template <int K, int D, int W>
static void dw_grad_rows(const float* P, int wp, size_t padded, const float* dy, int64_t dy_stride, int m, int h,
                         float* dwk) {
  constexpr int R = kDwGradRows<K>;
  typename RowShape<W>::Vec::V acc[K * K] = {};
  for (int j = 0; j < m; j++) {
    const float* Pj = P + j * padded;
    const float* dyj = dy + j * dy_stride;
    int r = 0;
    for (; r + R <= h; r += R) dw_grad_band<K, D, W, R>(Pj + r * wp, wp, dyj + r * W, acc);
    for (; r < h; r++) dw_grad_band<K, D, W, 1>(Pj + r * wp, wp, dyj + r * W, acc);
  }
  for (int t = 0; t < K * K; t++) dwk[t] += RowShape<W>::Vec::sum(acc[t]);
}

using DwRowsFn = void (*)(const float*, int, int, const float*, float*, int);
using DwGradFn = void (*)(const float*, int, size_t, const float*, int64_t, int, int, float*);
struct DwRowKernels {
  DwRowsFn forward = nullptr, dx = nullptr;
  DwGradFn dw = nullptr;  // stride 1 only
};
// The row kernels for this geometry: "same" padding (a stride-1 grid as large as the
// input), input rows half a register, one, two or four wide, stride 1 or 2 (the input
// gradient reads the stride-1 grid of dy, so its kernel serves both); otherwise null and the
// grid kernels serve. Four registers (32×32 maps on AVX2, since session 18) take the forward
// and input-gradient kernels, which keep the grid's bits, but not the kernel gradient, whose
// row kernel sums in another order: the bits of training stay those of the grid.
template <int K, int D, int W>
static DwRowKernels dw_rows_of(int stride) {
  DwGradFn dw = nullptr;
  if constexpr (kDwGradRows<K> > 0 && W <= 2 * kLanes) dw = stride == 1 ? &dw_grad_rows<K, D, W> : nullptr;
  return {stride == 1 ? &dw_forward_rows<K, D, W, 1> : &dw_forward_rows<K, D, W, 2>, &dw_dx_rows<K, D, W>, dw};
}
template <int K, int D>
static DwRowKernels dw_rows_for(int w, int stride) {
  if (w == kLanes / 2) return dw_rows_of<K, D, kLanes / 2>(stride);
  if (w == kLanes) return dw_rows_of<K, D, kLanes>(stride);
  if (w == 2 * kLanes) return dw_rows_of<K, D, 2 * kLanes>(stride);
  return dw_rows_of<K, D, 4 * kLanes>(stride);
}
static DwRowKernels dw_row_kernels(const ConvGeom& g) {
  static const bool off = [] {
    const char* e = std::getenv("MEMHYPER_DW_ROWS");
    return e && e[0] == '0';
  }();
  const bool same = (g.stride == 1 || g.stride == 2) && 2 * g.pad == g.dil * (g.k - 1);
  const bool width = g.w == kLanes / 2 || g.w == kLanes || g.w == 2 * kLanes || g.w == 4 * kLanes;
  if (off || !same || !width || g.h % g.stride != 0) return {};
  if (g.k == 3 && g.dil == 1) return dw_rows_for<3, 1>(g.w, g.stride);
  if (g.k == 3 && g.dil == 2) return dw_rows_for<3, 2>(g.w, g.stride);
  if (g.k == 5 && g.dil == 1) return dw_rows_for<5, 1>(g.w, g.stride);
  if (g.k == 5 && g.dil == 2) return dw_rows_for<5, 2>(g.w, g.stride);
  return {};
}

// The (strided) outputs of one plane read off its stride-1 grid.
static void grid_to_plane(const ConvGeom& g, const DwGrid& q, const float* __restrict__ grid, float* __restrict__ y) {
  for (int oh = 0; oh < g.oh; oh++) {
    const float* row = grid + (int64_t)oh * g.stride * q.wp;
    float* yr = y + (int64_t)oh * g.ow;
    if (g.stride == 1) std::memcpy(yr, row, sizeof(float) * g.ow);
    else
      for (int ow = 0; ow < g.ow; ow++) yr[ow] = row[ow * g.stride];
  }
}

// One plane's dy placed on its grid (G zero elsewhere).
static void plane_to_grid(const ConvGeom& g, const DwGrid& q, const float* __restrict__ dy, float* __restrict__ G) {
  for (int oh = 0; oh < g.oh; oh++) {
    float* row = G + (int64_t)oh * g.stride * q.wp;
    const float* d = dy + (int64_t)oh * g.ow;
    if (g.stride == 1) std::memcpy(row, d, sizeof(float) * g.ow);
    else
      for (int ow = 0; ow < g.ow; ow++) row[ow * g.stride] = d[ow];
  }
}

// With dy on the grid G (zeros elsewhere): dW[t] += Σ_i G[i]·P[i + off_t] over i < len, and
// dP[j] = Σ_t w[t]·G[j − off_t] for j < plen. G is preceded by at least the largest offset
// and followed by kDwBlock floats of zeros, so both sums run over whole blocks unchecked.
static void dw_backward_grid(int taps, const int* offs, const float* __restrict__ P, const float* __restrict__ wk,
                             const float* __restrict__ G, int len, int plen, float* __restrict__ dP,
                             float* __restrict__ dwk) {
  // Taps in near-equal chunks whose accumulators fit the register file; G is re-read
  // per chunk (from L1/L2).
  const int chunks = (taps + kTapChunk - 1) / kTapChunk;
  for (int c = 0, t0 = 0; c < chunks; c++) {
    const int tc = (taps - t0) / (chunks - c);
    kGradChunk[tc - 1](G, P, offs + t0, len, dwk + t0);
    t0 += tc;
  }
  if (!dP) return;
  for (int j0 = 0; j0 < plen; j0 += kDwBlock) {
    vf a[kVecs] = {};
    for (int t = 0; t < taps; t++) {
      const float* src = G + j0 - offs[t];
      const float wt = wk[t];
      for (int v = 0; v < kVecs; v++) a[v] += wt * loadv(src + v * kLanes);
    }
    float acc[kDwBlock];
    for (int v = 0; v < kVecs; v++) storev(acc + v * kLanes, a[v]);
    std::memcpy(dP + j0, acc, sizeof(float) * std::min(kDwBlock, plen - j0));
  }
}

static void relu_mask_inplace(int64_t len, const float* __restrict__ x, float* __restrict__ dx) {
  for (int64_t i = 0; i < len; i++) dx[i] = x[i] > 0.f ? dx[i] : 0.f;
}

// Adds one image's or plane's input gradient into the gradient already there (masked by
// x > 0 behind a fused ReLU): the very sum the tape's separate addition made, bit for bit,
// without that pass over the whole tensor or a buffer for it. Kernels asked to accumulate
// compute into a small cache-resident buffer and finish through here.
static void add_grad(int64_t len, const float* __restrict__ src, const float* __restrict__ x, bool relu,
                     float* __restrict__ dst) {
  if (relu)
    for (int64_t i = 0; i < len; i++) dst[i] += x[i] > 0.f ? src[i] : 0.f;
  else
    for (int64_t i = 0; i < len; i++) dst[i] += src[i];
}

// dx (+)= crop(dP), masked by x > 0 when the input went through a fused ReLU.
static void unpad_plane(const float* __restrict__ dP, const float* __restrict__ x, int h, int w, int p, bool relu,
                        bool accumulate, float* __restrict__ dx) {
  const int wp = w + 2 * p;
  for (int i = 0; i < h; i++) {
    const float* __restrict__ src = dP + (int64_t)(i + p) * wp + p;
    float* __restrict__ dst = dx + (int64_t)i * w;
    const float* __restrict__ xr = x + (int64_t)i * w;
    if (accumulate) {
      add_grad(w, src, xr, relu, dst);
    } else if (relu) {
      for (int j = 0; j < w; j++) dst[j] = xr[j] > 0.f ? src[j] : 0.f;
    } else {
      std::memcpy(dst, src, sizeof(float) * w);
    }
  }
}

// Quantized outputs: y = (float)(acc·scale[o] + bias[o]) in double over one output plane.
static inline void affine_plane(float* y, int64_t len, double scale, double bias) {
  for (int64_t j = 0; j < len; j++) y[j] = (float)((double)y[j] * scale + bias);
}

// A kernel that covers the whole unpadded input (the auxiliary head's 2×2 conv on a 2×2
// map): one output per image, so the layer is a linear map of each image's flattened input
// (im2col row order equals NCHW order) and the batch becomes one GEMM instead of N GEMVs.
static inline bool is_whole_input(const ConvGeom& g) {
  return g.groups == 1 && g.pad == 0 && g.dil == 1 && g.k == g.h && g.k == g.w && g.oh == 1 && g.ow == 1;
}

// Images [n0, n1) of x read through `in` into rows of `out` (row length len), or x itself
// when no mapping applies.
static const float* mapped_rows(const float* x, int64_t len, int n0, int n1, const InputMap& in, float* out) {
  if (!in.active()) return x + (int64_t)n0 * len;
  for (int64_t i = 0; i < (int64_t)(n1 - n0) * len; i++) out[i] = in(x[(int64_t)n0 * len + i]);
  return out;
}

// Whole-input convolution as GEMMs over fixed parts of the batch: Y[n×oc] = X[n×K]·Wᵀ.
static void whole_input_forward(const ConvGeom& g, const float* x, const float* w, float* y, const InputMap& in,
                                const float* bias, const double* out_scale) {
  const int K = g.c * g.k * g.k, parts = std::min(g.n, kBatchParts);
#pragma omp parallel
  {
    std::vector<float> rows(in.active() ? (size_t)(g.n / parts + 1) * K : 0);
#pragma omp for schedule(static)
    for (int part = 0; part < parts; part++) {
      const int n0 = part_begin(g.n, parts, part), n1 = part_begin(g.n, parts, part + 1);
      const float* src = mapped_rows(x, K, n0, n1, in, rows.data());
      float* yp = y + (int64_t)n0 * g.oc;
      const bool prefill = bias && !out_scale;
      for (int n = n0; n < n1 && prefill; n++) std::copy(bias, bias + g.oc, y + (int64_t)n * g.oc);
      gemm(false, true, n1 - n0, g.oc, K, 1.f, src, K, w, K, prefill ? 1.f : 0.f, yp, g.oc);
      if (out_scale)
        for (int n = n0; n < n1; n++)
          for (int o = 0; o < g.oc; o++) {
            float* v = y + (int64_t)n * g.oc + o;
            *v = (float)((double)*v * out_scale[o] + (bias ? bias[o] : 0.0));
          }
    }
  }
}

// dX[n×K] = dY[n×oc]·W over parts of the batch; dW[oc×K] += dYᵀ·X over fixed parts of the
// output channels, each summing the whole batch in image order.
static void whole_input_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx,
                                 float* dw, bool relu_in, bool accumulate) {
  const int K = g.c * g.k * g.k;
  InputMap relu_map;
  relu_map.relu = relu_in;
  std::vector<float> rows(relu_in ? (size_t)g.n * K : 0);
  const float* src = mapped_rows(x, K, 0, g.n, relu_map, rows.data());
  const int parts = std::min(g.n, kBatchParts), oparts = std::min(g.oc, kBatchParts);
#pragma omp parallel
  {
#pragma omp for schedule(static) nowait
    for (int part = 0; part < oparts; part++) {
      const int o0 = part_begin(g.oc, oparts, part), o1 = part_begin(g.oc, oparts, part + 1);
      gemm(true, false, o1 - o0, K, g.n, 1.f, dy + o0, g.oc, src, K, 1.f, dw + (int64_t)o0 * K, K);
    }
#pragma omp for schedule(static)
    for (int part = 0; part < (dx ? parts : 0); part++) {
      const int n0 = part_begin(g.n, parts, part), n1 = part_begin(g.n, parts, part + 1);
      const int64_t len = (int64_t)(n1 - n0) * K;
      std::vector<float> tmp(accumulate ? len : 0);
      float* dxp = accumulate ? tmp.data() : dx + (int64_t)n0 * K;
      gemm(false, false, n1 - n0, K, g.oc, 1.f, dy + (int64_t)n0 * g.oc, g.oc, w, K, 0.f, dxp, K);
      if (accumulate) add_grad(len, dxp, x + (int64_t)n0 * K, relu_in, dx + (int64_t)n0 * K);
      else if (relu_in) relu_mask_inplace(len, x + (int64_t)n0 * K, dxp);
    }
  }
}

static inline void relu_copy(int64_t len, const float* __restrict__ x, float* __restrict__ y) {
  for (int64_t i = 0; i < len; i++) y[i] = x[i] > 0.f ? x[i] : 0.f;
}

static inline void add_into(int64_t len, const float* __restrict__ add, float* __restrict__ y) {
  for (int64_t i = 0; i < len; i++) y[i] += add[i];
}

// y (m×P) = w (m×K) · src (K×P), plus the bias, then scaled per row when out_scale is given,
// then plus `add` (may be null; m×P) as a separate sum of the two would round it.
static void forward_gemm(int m, int P, int K, const float* w, const float* src, float* y, const float* bias,
                         const double* out_scale, const float* add) {
  const bool prefill = bias && !out_scale;
  // The small-k GEMM starts its accumulators from the bias (no pass over the output first)
  // and adds `add` as it stores them.
  if (prefill && small_k_gemm(false, false, m, P, K, 1.f, w, K, src, P, 0.f, y, P, bias, add)) return;
  if (prefill)
    for (int o = 0; o < m; o++) std::fill(y + (int64_t)o * P, y + (int64_t)(o + 1) * P, bias[o]);
  gemm(false, false, m, P, K, 1.f, w, K, src, P, prefill ? 1.f : 0.f, y, P);
  if (out_scale)
    for (int o = 0; o < m; o++) affine_plane(y + (int64_t)o * P, P, out_scale[o], bias ? bias[o] : 0.0);
  if (add) add_into((int64_t)m * P, add, y);
}

void conv2d_forward(const ConvGeom& g, const float* x, const float* w, float* y, bool relu_in, const float* bias,
                    const float* add) {
  InputMap m;
  m.relu = relu_in;
  conv2d_forward_mapped(g, x, w, y, m, bias, nullptr, add);
}

void conv2d_forward_mapped(const ConvGeom& g, const float* x, const float* w, float* y, const InputMap& in,
                           const float* bias, const double* out_scale, const float* add) {
  const int64_t plane = (int64_t)g.h * g.w;
  const int64_t in_sz = (int64_t)g.c * plane;
  const int P = g.oh * g.ow;
  const int64_t out_sz = (int64_t)g.oc * P;
  if (is_whole_input(g)) {
    whole_input_forward(g, x, w, y, in, bias, out_scale);
    if (add) add_into((int64_t)g.n * out_sz, add, y);
    return;
  }
  if (is_depthwise(g)) {
    const int kk = g.k * g.k;
    const size_t padded = (size_t)(g.h + 2 * g.pad) * (g.w + 2 * g.pad);
    const DwGrid q = dw_grid(g);
    int offs[64];
    dw_offsets(g, q, offs);
    const DwRowsFn rows_fn = dw_row_kernels(g).forward;
#pragma omp parallel
    {
      std::vector<float> pbuf(padded + 2 * kDwBlock), grid(rows_fn ? 0 : q.len + kDwBlock);
#pragma omp for schedule(static)
      for (int64_t i = 0; i < (int64_t)g.n * g.c; i++) {
        const int c = (int)(i % g.c);
        float* yp = y + i * P;
        pad_plane(x + i * plane, g.h, g.w, g.pad, in, pbuf.data());
        if (rows_fn) {
          rows_fn(pbuf.data(), q.wp, g.oh, w + c * kk, yp, g.ow);
        } else {
          dw_forward_grid(kk, offs, pbuf.data(), q.len, w + c * kk, grid.data());
          grid_to_plane(g, q, grid.data(), yp);
        }
        if (out_scale) {
          affine_plane(yp, P, out_scale[c], bias ? bias[c] : 0.0);
        } else if (bias) {
          const float b = bias[c];
          for (int e = 0; e < P; e++) yp[e] += b;
        }
        if (add) add_into(P, add + i * P, yp);
      }
    }
    return;
  }
  const int cg = g.c / g.groups, og = g.oc / g.groups, K = cg * g.k * g.k;
  const bool direct = is_pointwise(g);
#pragma omp parallel
  {
    std::vector<float> cols(direct ? (in.active() ? (size_t)in_sz : 0) : (size_t)K * P);
#pragma omp for schedule(static)
    for (int n = 0; n < g.n; n++) {
      const float* xn = x + n * in_sz;
      if (direct && in.quantize) {
        map_inputs(in, xn, cols.data(), in_sz);
      } else if (direct && in.relu) {
        relu_copy(in_sz, xn, cols.data());
      }
      for (int gr = 0; gr < g.groups; gr++) {
        const float* src;
        if (direct) {
          src = in.active() ? cols.data() : xn;
        } else {
          im2col(g, xn, gr * cg, cg, cols.data(), in);
          src = cols.data();
        }
        const int64_t at = n * out_sz + (int64_t)gr * og * P;
        forward_gemm(og, P, K, w + (int64_t)gr * og * K, src, y + at, bias ? bias + gr * og : nullptr,
                     out_scale ? out_scale + gr * og : nullptr, add ? add + at : nullptr);
      }
    }
  }
}

void conv1x1_forward_concat(const ConvGeom& g, int parts, const float* const* xs, const int* part_c, const float* w,
                            float* y, bool relu_in, const float* bias, const float* add) {
  const int P = g.h * g.w;
  const int64_t in_sz = (int64_t)g.c * P, out_sz = (int64_t)g.oc * P;
#pragma omp parallel
  {
    std::vector<float> cols((size_t)in_sz);
#pragma omp for schedule(static)
    for (int n = 0; n < g.n; n++) {
      // The image as the concatenation would hold it, gathered where the ReLU copy goes anyway.
      float* dst = cols.data();
      for (int q = 0; q < parts; q++) {
        const int64_t len = (int64_t)part_c[q] * P;
        const float* src = xs[q] + n * len;
        if (relu_in) relu_copy(len, src, dst);
        else std::memcpy(dst, src, sizeof(float) * len);
        dst += len;
      }
      forward_gemm(g.oc, P, g.c, w, cols.data(), y + n * out_sz, bias, nullptr, add ? add + n * out_sz : nullptr);
    }
  }
}

void conv2d_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx, float* dw,
                     bool relu_in, bool accumulate) {
  InputMap relu_map;
  relu_map.relu = relu_in;
  const int64_t plane = (int64_t)g.h * g.w;
  const int64_t in_sz = (int64_t)g.c * plane;
  const int P = g.oh * g.ow;
  const int64_t out_sz = (int64_t)g.oc * P;
  if (is_whole_input(g)) return whole_input_backward(g, x, w, dy, dx, dw, relu_in, accumulate);
  if (is_depthwise(g)) {
    const int kk = g.k * g.k;
    const size_t padded = (size_t)(g.h + 2 * g.pad) * (g.w + 2 * g.pad);
    // Parallel over channels: each channel's kernel gradient is summed by one thread, stack
    // after stack in image order.
    const DwGrid q = dw_grid(g);
    const int front = ((g.dil * (g.k - 1) * (q.wp + 1)) / kDwBlock + 1) * kDwBlock;
    const int stack = dw_stack(g, padded);
    int offs[64];
    dw_offsets(g, q, offs);
    const DwRowKernels rows = dw_row_kernels(g);
#pragma omp parallel
    {
      std::vector<float> pbuf(stack * padded + 2 * kDwBlock), dpbuf(rows.dx ? 0 : stack * padded),
          gbuf(front + stack * padded + 2 * kDwBlock), tmp(rows.dx && accumulate ? plane : 0);
      float* G = gbuf.data() + front;
#pragma omp for schedule(static)
      for (int c = 0; c < g.c; c++) {
        for (int n0 = 0; n0 < g.n; n0 += stack) {
          const int m = std::min(stack, g.n - n0);
          // The grid of dy serves the grid kernels and the input-gradient row kernel. Every
          // stack writes dy to the same positions of the grid and nothing else writes it, so
          // the rest stays zero as allocated (no fill per stack: depthwise backward
          // 1.04–1.07× alone). A short last stack would leave the previous stack's dy in the
          // planes past its end; only outputs the kernels discard read there, and zeroing
          // those planes keeps it so whatever the kernels become.
          const bool grid = !rows.dw || dx;
          if (grid && m < stack) std::fill(G + m * padded, G + stack * padded, 0.f);
          for (int j = 0; j < m; j++) {
            const int64_t i = (int64_t)(n0 + j) * g.c + c;
            pad_plane(x + i * plane, g.h, g.w, g.pad, relu_map, pbuf.data() + j * padded);
            if (grid) plane_to_grid(g, q, dy + i * P, G + j * padded);
          }
          if (rows.dw)
            rows.dw(pbuf.data(), q.wp, padded, dy + ((int64_t)n0 * g.c + c) * P, (int64_t)g.c * P, m, g.h,
                    dw + c * kk);
          else
            dw_backward_grid(kk, offs, pbuf.data(), w + c * kk, G, (int)((m - 1) * padded) + q.len,
                             (int)(m * padded), dx && !rows.dx ? dpbuf.data() : nullptr, dw + c * kk);
          if (!dx) continue;
          if (rows.dx) {
            for (int j = 0; j < m; j++) {
              const int64_t i = (int64_t)(n0 + j) * g.c + c;
              float* out = accumulate ? tmp.data() : dx + i * plane;
              rows.dx(G + j * padded + g.pad * q.wp + g.pad, q.wp, g.h, w + c * kk, out, g.w);
              if (accumulate) add_grad(plane, out, x + i * plane, relu_in, dx + i * plane);
              else if (relu_in) relu_mask_inplace(plane, x + i * plane, out);
            }
            continue;
          }
          for (int j = 0; j < m; j++) {
            const int64_t i = (int64_t)(n0 + j) * g.c + c;
            unpad_plane(dpbuf.data() + j * padded, x + i * plane, g.h, g.w, g.pad, relu_in, accumulate, dx + i * plane);
          }
        }
      }
    }
    return;
  }
  const int cg = g.c / g.groups, og = g.oc / g.groups, K = cg * g.k * g.k;
  const int64_t wsz = (int64_t)g.oc * K;
  const bool direct = is_pointwise(g);
  const int parts = std::min(g.n, kBatchParts);
  std::vector<float> partial((size_t)parts * wsz, 0.f);
#pragma omp parallel
  {
    std::vector<float> cols(direct ? (relu_in ? (size_t)in_sz : 0) : (size_t)K * P);
    std::vector<float> dcols(direct ? 0 : (size_t)K * P), tmp(dx && accumulate ? in_sz : 0);
#pragma omp for schedule(static)
    for (int part = 0; part < parts; part++) {
      float* dwp = partial.data() + part * wsz;
      for (int n = part_begin(g.n, parts, part); n < part_begin(g.n, parts, part + 1); n++) {
        const float* xn = x + n * in_sz;
        float* dxn = accumulate ? tmp.data() : dx + n * in_sz;  // this image's input gradient
        if (dx && !direct) std::memset(dxn, 0, sizeof(float) * in_sz);
        if (direct && relu_in) {
          for (int64_t i = 0; i < in_sz; i++) cols[i] = xn[i] > 0.f ? xn[i] : 0.f;
        }
        for (int gr = 0; gr < g.groups; gr++) {
          const float* dyg = dy + n * out_sz + (int64_t)gr * og * P;
          const float* wg = w + (int64_t)gr * og * K;
          const float* src;
          if (direct) {
            src = relu_in ? cols.data() : xn;
          } else {
            im2col(g, xn, gr * cg, cg, cols.data(), relu_map);
            src = cols.data();
          }
          gemm(false, true, og, K, P, 1.f, dyg, P, src, P, 1.f, dwp + (int64_t)gr * og * K, K);
          if (dx) {
            if (direct) {
              gemm(true, false, K, P, og, 1.f, wg, K, dyg, P, 0.f, dxn, P);
            } else {
              gemm(true, false, K, P, og, 1.f, wg, K, dyg, P, 0.f, dcols.data(), P);
              col2im_add(g, dcols.data(), gr * cg, cg, dxn);
            }
          }
        }
        if (dx && accumulate) add_grad(in_sz, dxn, xn, relu_in, dx + n * in_sz);
        else if (dx && relu_in) relu_mask_inplace(in_sz, xn, dxn);
      }
    }
  }
  for (int part = 0; part < parts; part++) {
    const float* p = partial.data() + part * wsz;
    for (int64_t i = 0; i < wsz; i++) dw[i] += p[i];
  }
}

// Pooling, separably: for each output row, the window's input rows are first reduced
// column by column (a contiguous loop over the row, which vectorises), then each output
// reduces its window's columns of that one row. Windows are clipped to the image
// (count_include_pad=False).
static inline void window(int o, int stride, int pad, int k, int size, int& lo, int& hi) {
  lo = std::max(o * stride - pad, 0);
  hi = std::min(o * stride - pad + k, size);
}

void pool_forward(bool is_max, int n, int c, int h, int w, int k, int stride, int pad, int oh, int ow, const float* x,
                  float* y) {
#pragma omp parallel
  {
    std::vector<float> colv(w);
    float* __restrict__ col = colv.data();
#pragma omp for schedule(static)
    for (int64_t i = 0; i < (int64_t)n * c; i++) {
      const float* xp = x + i * h * w;
      float* yp = y + i * oh * ow;
      for (int a = 0; a < oh; a++) {
        int h0, h1;
        window(a, stride, pad, k, h, h0, h1);
        std::copy(xp + h0 * w, xp + (h0 + 1) * w, col);
        for (int ih = h0 + 1; ih < h1; ih++) {
          const float* r = xp + ih * w;
          if (is_max)
            for (int iw = 0; iw < w; iw++) col[iw] = std::max(col[iw], r[iw]);
          else
            for (int iw = 0; iw < w; iw++) col[iw] += r[iw];
        }
        for (int b = 0; b < ow; b++) {
          int w0, w1;
          window(b, stride, pad, k, w, w0, w1);
          float v = col[w0];
          for (int iw = w0 + 1; iw < w1; iw++) v = is_max ? std::max(v, col[iw]) : v + col[iw];
          yp[a * ow + b] = is_max ? v : v / (float)((h1 - h0) * (w1 - w0));
        }
      }
    }
  }
}

// The frame of both pool gradients: planes split over threads, each thread with its own
// scratch (`make_scratch`), and `plane(i, scratch, g)` adding plane i's gradient into a
// zeroed g, which is dx's plane itself or, with `accumulate`, a buffer added into dx after.
template <class MakeScratch, class Plane>
static void pool_backward_planes(int64_t planes, int64_t hw, float* dx, bool accumulate, MakeScratch make_scratch,
                                 Plane plane) {
#pragma omp parallel
  {
    auto scratch = make_scratch();
    std::vector<float> tmp(accumulate ? hw : 0);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < planes; i++) {
      float* g = accumulate ? tmp.data() : dx + i * hw;
      std::fill(g, g + hw, 0.f);
      plane(i, scratch, g);
      if (accumulate) add_grad(hw, g, nullptr, false, dx + i * hw);
    }
  }
}

// Max pool gradient for 3×3 windows at stride 1 or 2, a whole output row at a time: the
// plane is padded with -inf and split into its stride's column phases, so each window tap is
// a contiguous load across the row's outputs and the unrolled taps vectorise, the running
// maximum staying in registers. Taps run in scan order with a strict >, so each output keeps
// the first maximum of its window as PyTorch does; padding never wins. Gradients then go
// to the argmaxes in output order, as the scalar search adds them: the same bits.
template <int K, int S>
static void max_pool_plane_rows(int h, int w, int pad, int oh, int ow, int qw, const float* __restrict__ xp,
                                const float* __restrict__ dyp, float* __restrict__ q, int* __restrict__ best,
                                float* __restrict__ dxp) {
  const float ninf = -std::numeric_limits<float>::infinity();
  // q[(r·S + phase)·qw + j] = padded plane at row r, column j·S + phase. q's padding is -inf
  // from its allocation: every plane writes the same positions, so it is never filled again
  // (max-pool gradient alone, 16×16 and 32×32: 1.02–1.09×).
  for (int r = 0; r < h; r++)
    for (int ph = 0; ph < S; ph++) {
      float* __restrict__ dst = q + ((int64_t)(r + pad) * S + ph) * qw;
      const float* __restrict__ src = xp + r * w + ph - pad;  // src[j·S] is padded column j·S + ph
      const int j0 = (pad - ph + S - 1) / S, j1 = (w + pad - ph + S - 1) / S;  // columns 0 … w-1
      for (int j = j0; j < j1; j++) dst[j] = src[j * S];
    }
  for (int a = 0; a < oh; a++) {
    const int h0 = std::max(a * S - pad, 0);
    const float* __restrict__ top = q + (int64_t)a * S * S * qw;  // padded row a·S, phase 0
#pragma omp simd simdlen(8)
    for (int b = 0; b < ow; b++) {
      float bv = ninf;
      int arg = h0 * w + std::max(b * S - pad, 0);  // first valid input: kept if all are -inf
#pragma GCC unroll 3
      for (int dh = 0; dh < K; dh++)
#pragma GCC unroll 3
        for (int dw = 0; dw < K; dw++) {
          const float v = top[(dh * S + dw % S) * qw + dw / S + b];
          const bool gt = v > bv;
          bv = gt ? v : bv;
          arg = gt ? (a * S + dh - pad) * w + b * S + dw - pad : arg;
        }
      best[b] = arg;
    }
    for (int b = 0; b < ow; b++) dxp[best[b]] += dyp[a * ow + b];
  }
}

template <int K, int S>
static void max_pool_backward_rows(int n, int c, int h, int w, int pad, int oh, int ow, const float* x,
                                   const float* dy, float* dx, bool accumulate) {
  const int qw = (w + 2 * pad + S - 1) / S;  // width of one column phase of the padded plane
  struct Scratch {
    std::vector<float> q;
    std::vector<int> best;
  };
  const auto make_scratch = [&] {
    return Scratch{std::vector<float>((size_t)(h + 2 * pad) * S * qw, -std::numeric_limits<float>::infinity()),
                   std::vector<int>(ow)};
  };
  // The plane's body is a function of its own: written inside the lambda, GCC no longer
  // vectorised the taps (3–6× slower).
  pool_backward_planes((int64_t)n * c, (int64_t)h * w, dx, accumulate, make_scratch,
                       [&](int64_t i, Scratch& sc, float* g) {
                         max_pool_plane_rows<K, S>(h, w, pad, oh, ow, qw, x + i * h * w, dy + i * oh * ow,
                                                   sc.q.data(), sc.best.data(), g);
                       });
}

void pool_backward(bool is_max, int n, int c, int h, int w, int k, int stride, int pad, int oh, int ow, const float* x,
                   const float* dy, float* dx, bool accumulate) {
  static const bool off = [] {
    const char* e = std::getenv("MEMHYPER_POOL_ROWS");
    return e && e[0] == '0';
  }();
  if (!off && is_max && k == 3 && pad < k) {
    if (stride == 1) return max_pool_backward_rows<3, 1>(n, c, h, w, pad, oh, ow, x, dy, dx, accumulate);
    if (stride == 2) return max_pool_backward_rows<3, 2>(n, c, h, w, pad, oh, ow, x, dy, dx, accumulate);
  }
  pool_backward_planes((int64_t)n * c, (int64_t)h * w, dx, accumulate, [&] { return std::vector<float>(w); },
                       [&](int64_t i, std::vector<float>& accv, float* __restrict__ dxp) {
    const float* __restrict__ xp = x + i * h * w;
    const float* __restrict__ dyp = dy + i * oh * ow;
    float* __restrict__ acc = accv.data();
    for (int a = 0; a < oh; a++) {
      int h0, h1;
      window(a, stride, pad, k, h, h0, h1);
      if (is_max) {
        // Per output, the first maximum in scan order, as PyTorch. (A separable search,
        // per column then across columns, measured 1.3–2× slower: its tie rule branches
        // on the data.)
        for (int b = 0; b < ow; b++) {
          int w0, w1;
          window(b, stride, pad, k, w, w0, w1);
          int best = h0 * w + w0;
          float bv = xp[best];
          for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++) {
              const float v = xp[ih * w + iw];
              if (v > bv) {
                bv = v;
                best = ih * w + iw;
              }
            }
          dxp[best] += dyp[a * ow + b];
        }
      } else {
        // Each output's share spread over its window's columns, then down its rows.
        std::fill(acc, acc + w, 0.f);
        for (int b = 0; b < ow; b++) {
          int w0, w1;
          window(b, stride, pad, k, w, w0, w1);
          const float gs = dyp[a * ow + b] / (float)((h1 - h0) * (w1 - w0));
          for (int iw = w0; iw < w1; iw++) acc[iw] += gs;
        }
        for (int ih = h0; ih < h1; ih++) {
          float* r = dxp + ih * w;
          for (int iw = 0; iw < w; iw++) r[iw] += acc[iw];
        }
      }
    }
  });
}

// Batch norm in training takes channels in groups whose planes lie side by side in each
// image, at least 4 KB of them (one 32×32 plane; sixteen 8×8 ones): a channel's planes alone
// are far apart (a 256-byte plane every 16 KB at 64×8×8), a pattern no prefetcher follows,
// and a group's planes of the whole batch (about 256 KB) stay in cache from the statistics
// pass to the normalising one. Each plane's float sums are added per channel in double in
// image order, so the bits depend neither on the grouping nor on the threads.
namespace {
// body(c0, c1) for each group of channels [c0, c1), the groups split across the threads.
template <typename Body>
void for_channel_groups(int c, int hw, Body body) {
  const int for_stream = std::max(1, 1024 / std::max(hw, 1));
  const int for_threads = std::max(1, (c + threads() - 1) / threads());
  const int group = std::min({c, for_stream, for_threads}), groups = (c + group - 1) / group;
#pragma omp parallel for schedule(static)
  for (int gi = 0; gi < groups; gi++) body(gi * group, std::min(c, gi * group + group));
}

// f(offset, ch) for each plane of channels [c0, c1), image by image.
template <typename F>
inline void for_group_planes(int n, int c, int hw, int c0, int c1, F f) {
  for (int i = 0; i < n; i++)
    for (int ch = c0; ch < c1; ch++) f(((int64_t)i * c + ch) * hw, ch);
}

inline void plane_shifted_sums(const float* __restrict__ p, int hw, float shift, float& s, float& s2) {
  float ps = 0.f, ps2 = 0.f;
#pragma omp simd reduction(+ : ps, ps2)
  for (int j = 0; j < hw; j++) {
    const float d = p[j] - shift;
    ps += d;
    ps2 += d * d;
  }
  s = ps;
  s2 = ps2;
}

inline void plane_grad_sums(const float* __restrict__ p, const float* __restrict__ g, int hw, float mu, float& sa,
                            float& sb) {
  float a = 0.f, b = 0.f;
#pragma omp simd reduction(+ : a, b)
  for (int j = 0; j < hw; j++) {
    a += g[j];
    b += g[j] * (p[j] - mu);
  }
  sa = a;
  sb = b;
}
}  // namespace

void bn_forward_train(int n, int c, int hw, const float* x, const float* gamma, const float* beta, float eps, float* y,
                      float* mean, float* invstd) {
  const double m = (double)n * hw;
  for_channel_groups(c, hw, [&](int c0, int c1) {
    // Sum and sum of squares in one pass, about a shift: the channel's first value, a sample
    // of the batch, lies within a few deviations of the mean, so the variance does not
    // cancel as the raw second moment would. One read of x fewer than the two-pass form.
    std::vector<double> s(c1 - c0, 0.0), s2(c1 - c0, 0.0);
    for_group_planes(n, c, hw, c0, c1, [&](int64_t o, int ch) {
      float ps, ps2;
      plane_shifted_sums(x + o, hw, x[(int64_t)ch * hw], ps, ps2);
      s[ch - c0] += ps;
      s2[ch - c0] += ps2;
    });
    std::vector<float> scale(c1 - c0), shift_by(c1 - c0);
    for (int ch = c0; ch < c1; ch++) {
      const double dmu = s[ch - c0] / m, mu = x[(int64_t)ch * hw] + dmu;
      const double var = std::max(s2[ch - c0] / m - dmu * dmu, 0.0);
      const float is = (float)(1.0 / std::sqrt(var + eps));
      mean[ch] = (float)mu;
      invstd[ch] = is;
      scale[ch - c0] = gamma[ch] * is;
      shift_by[ch - c0] = beta[ch] - (float)mu * scale[ch - c0];
    }
    for_group_planes(n, c, hw, c0, c1, [&](int64_t o, int ch) {
      const float sc = scale[ch - c0], sh = shift_by[ch - c0];
      const float* __restrict__ p = x + o;
      float* __restrict__ q = y + o;
      for (int j = 0; j < hw; j++) q[j] = p[j] * sc + sh;
    });
  });
}

void bn_forward_eval(int n, int c, int hw, const float* x, const float* gamma, const float* beta, const float* mean,
                     const float* var, float eps, float* y) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < (int64_t)n * c; i++) {
    const int ch = (int)(i % c);
    const float sc = gamma[ch] / std::sqrt(var[ch] + eps), sh = beta[ch] - mean[ch] * sc;
    const float* p = x + i * hw;
    float* q = y + i * hw;
    for (int j = 0; j < hw; j++) q[j] = p[j] * sc + sh;
  }
}

void bn_backward(int n, int c, int hw, const float* x, const float* gamma, const float* mean, const float* invstd,
                 const float* dy, float* dx, float* dgamma, float* dbeta, bool fixed_stats) {
  const double m = (double)n * hw;
  for_channel_groups(c, hw, [&](int c0, int c1) {
    std::vector<double> sdy(c1 - c0, 0.0), sdyx(c1 - c0, 0.0);
    for_group_planes(n, c, hw, c0, c1, [&](int64_t o, int ch) {
      float a, b;
      plane_grad_sums(x + o, dy + o, hw, mean[ch], a, b);
      sdy[ch - c0] += a;
      sdyx[ch - c0] += b;
    });
    std::vector<float> k1s(c1 - c0), mdys(c1 - c0), mxhs(c1 - c0);
    for (int ch = c0; ch < c1; ch++) {
      const double sxhat = sdyx[ch - c0] * invstd[ch];  // Σ dy·x̂
      dgamma[ch] += (float)sxhat;
      dbeta[ch] += (float)sdy[ch - c0];
      k1s[ch - c0] = gamma[ch] * invstd[ch];
      // Fixed (running) statistics do not depend on x: no mean terms.
      mdys[ch - c0] = fixed_stats ? 0.f : (float)(sdy[ch - c0] / m);
      mxhs[ch - c0] = fixed_stats ? 0.f : (float)(sxhat / m);
    }
    for_group_planes(n, c, hw, c0, c1, [&](int64_t o, int ch) {
      const float mu = mean[ch], is = invstd[ch], k1 = k1s[ch - c0], mdy = mdys[ch - c0], mxh = mxhs[ch - c0];
      const float* __restrict__ p = x + o;
      const float* __restrict__ g = dy + o;
      float* __restrict__ q = dx + o;
      for (int j = 0; j < hw; j++) q[j] = k1 * (g[j] - mdy - (p[j] - mu) * is * mxh);
    });
  });
}

void row_scale_add(int rows, int64_t per, const float* x, const float* scales, float* y, bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; r++) {
    const float s = scales[r];
    const float* __restrict__ xr = x + r * per;
    float* __restrict__ yr = y + r * per;
    if (accumulate) {
      for (int64_t i = 0; i < per; i++) yr[i] += s * xr[i];
    } else {
      for (int64_t i = 0; i < per; i++) yr[i] = s * xr[i];
    }
  }
}

void sum2(int rows, int64_t per, const float* x0, const float* s0, const float* x1, const float* s1, float* y) {
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; r++) {
    const float a = s0 ? s0[r] : 1.f, b = s1 ? s1[r] : 1.f;
    const float* __restrict__ p = x0 + r * per;
    const float* __restrict__ q = x1 + r * per;
    float* __restrict__ o = y + r * per;
#pragma omp simd
    for (int64_t i = 0; i < per; i++) o[i] = std::fma(b, q[i], a * p[i]);
  }
}

void strided_copy(int64_t count, int64_t len, const float* src, int64_t src_stride, float* dst, int64_t dst_stride) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < count; r++) std::memcpy(dst + r * dst_stride, src + r * src_stride, sizeof(float) * len);
}

void shift_forward(int64_t planes, int h, int w, const float* x, float* y) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; p++)
    for (int i = 1; i < h; i++)
      std::memcpy(y + (p * (h - 1) + i - 1) * (w - 1), x + (p * h + i) * w + 1, sizeof(float) * (w - 1));
}

void shift_backward(int64_t planes, int h, int w, const float* dy, float* dx) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; p++) {
    float* d = dx + p * h * w;
    std::fill(d, d + w, 0.f);
    for (int i = 1; i < h; i++) {
      d[i * w] = 0.f;
      std::memcpy(d + i * w + 1, dy + (p * (h - 1) + i - 1) * (w - 1), sizeof(float) * (w - 1));
    }
  }
}

// Each plane summed in double in element order and the mean rounded once, as the
// TypeScript reference's number arithmetic does: the same bits.
void global_avg_pool(int64_t planes, int64_t hw, const float* x, float* y) {
#pragma omp parallel for schedule(static) if (planes * hw > 1 << 15)
  for (int64_t p = 0; p < planes; p++) {
    const float* xp = x + p * hw;
    double s = 0.0;
    for (int64_t j = 0; j < hw; j++) s += xp[j];
    y[p] = (float)(s / (double)hw);
  }
}

void relu_forward(int64_t len, const float* x, float* y) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < len; i++) y[i] = x[i] > 0.f ? x[i] : 0.f;
}

void relu_backward(int64_t len, const float* x, const float* dy, float* dx) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < len; i++) dx[i] = x[i] > 0.f ? dy[i] : 0.f;
}

float max_value(int64_t len, const float* x, bool abs, float start) {
  float m = start;
#pragma omp parallel for simd schedule(static) reduction(max : m)
  for (int64_t i = 0; i < len; i++) m = std::max(m, abs ? std::fabs(x[i]) : x[i]);
  return m;
}

void axpy(int64_t len, float a, const float* x, float* y) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < len; i++) y[i] += a * x[i];
}

// In double with every product rounded before its sum, as the TypeScript reference (and
// PyTorch's formula written out) computes it: no contraction into fused multiply-adds, so
// the weights keep the reference's bits.
__attribute__((optimize("fp-contract=off"))) void sgd_step(int64_t len, float* w, const float* g, float* buf,
                                                             double lr, double mu, double wd, bool nesterov,
                                                             bool first) {
#pragma omp parallel for simd schedule(static) if (len > (1 << 15))
  for (int64_t i = 0; i < len; i++) {
    const double wi = w[i], d = (double)g[i] + wd * wi;
    const double b = first ? d : mu * (double)buf[i] + d;
    buf[i] = (float)b;
    w[i] = (float)(wi - lr * (nesterov ? d + mu * b : b));
  }
}

void scale_rows(int rows, int64_t m, const double* scales, const float* x, float* y) {
#pragma omp parallel for schedule(static) if ((int64_t)rows * m > 1 << 16)
  for (int r = 0; r < rows; r++) {
    const double s = scales[r];
    const float* xr = x + r * m;
    float* yr = y + r * m;
#pragma omp simd
    for (int64_t i = 0; i < m; i++) yr[i] = (float)(s * (double)xr[i]);
  }
}

}  // namespace mh
