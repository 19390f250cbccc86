// Broadcasting binary arithmetic, unary activations and last-axis softmax on float32 buffers; loops over
// large buffers share the OpenMP threads.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common.h"
#include "parallel.h"

namespace onednn_backend {
namespace {

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kSquaredDifference };

template <BinaryOp op>
inline float Apply(float a, float b) {
  if constexpr (op == BinaryOp::kAdd) return a + b;
  if constexpr (op == BinaryOp::kSub) return a - b;
  if constexpr (op == BinaryOp::kMul) return a * b;
  if constexpr (op == BinaryOp::kDiv) return a / b;
  const double d = static_cast<double>(a) - static_cast<double>(b);
  return static_cast<float>(d * d);
}

// Broadcast layout: out dims and, per operand, the element stride along each out dim (0 where the
// operand is broadcast). Adjacent dims that are contiguous for both operands are merged.
struct Layout {
  std::vector<int64_t> dims, strideA, strideB;
};

Layout Broadcast(Napi::Env env, const std::vector<int64_t>& aShape, const std::vector<int64_t>& bShape) {
  const size_t rank = std::max(aShape.size(), bShape.size());
  std::vector<int64_t> dims(rank), sa(rank), sb(rank);
  int64_t strideA = 1, strideB = 1;
  for (size_t i = rank; i-- > 0;) {
    const size_t offset = rank - i;
    const int64_t da = offset <= aShape.size() ? aShape[aShape.size() - offset] : 1;
    const int64_t db = offset <= bShape.size() ? bShape[bShape.size() - offset] : 1;
    if (da != db && da != 1 && db != 1) Fail(env, "binary: shapes do not broadcast");
    dims[i] = std::max(da, db);
    sa[i] = da == 1 ? 0 : strideA;
    sb[i] = db == 1 ? 0 : strideB;
    strideA *= da;
    strideB *= db;
  }
  Layout layout;
  for (size_t i = 0; i < rank; ++i) {
    if (dims[i] == 1) continue;
    if (!layout.dims.empty()) {
      const int64_t d = dims[i];
      if (layout.strideA.back() == sa[i] * d && layout.strideB.back() == sb[i] * d) {
        layout.dims.back() *= d;
        layout.strideA.back() = sa[i];
        layout.strideB.back() = sb[i];
        continue;
      }
    }
    layout.dims.push_back(dims[i]);
    layout.strideA.push_back(sa[i]);
    layout.strideB.push_back(sb[i]);
  }
  if (layout.dims.empty()) {
    layout.dims.push_back(1);
    layout.strideA.push_back(1);
    layout.strideB.push_back(1);
  }
  return layout;
}

template <BinaryOp op>
inline void Row(const float* pa, int64_t ia, const float* pb, int64_t ib, float* po, int64_t n) {
  if (ia == 1 && ib == 1) {
    for (int64_t j = 0; j < n; ++j) po[j] = Apply<op>(pa[j], pb[j]);
  } else if (ia == 1) {
    const float vb = pb[0];
    for (int64_t j = 0; j < n; ++j) po[j] = Apply<op>(pa[j], vb);
  } else if (ib == 1) {
    const float va = pa[0];
    for (int64_t j = 0; j < n; ++j) po[j] = Apply<op>(va, pb[j]);
  } else {
    const float v = Apply<op>(pa[0], pb[0]);
    for (int64_t j = 0; j < n; ++j) po[j] = v;
  }
}

template <BinaryOp op>
void Run(const Layout& l, const float* a, const float* b, float* out) {
  const size_t rank = l.dims.size();
  const int64_t n = l.dims[rank - 1];
  const int64_t ia = l.strideA[rank - 1];
  const int64_t ib = l.strideB[rank - 1];
  int64_t outer = 1;
  for (size_t i = 0; i + 1 < rank; ++i) outer *= l.dims[i];
  if (outer == 1) {
    // One long row: split it into chunks.
    ParallelFor(n, n, [&](int64_t begin, int64_t end) {
      Row<op>(a + (ia ? begin : 0), ia, b + (ib ? begin : 0), ib, out + begin, end - begin);
    });
    return;
  }
  ParallelFor(outer, outer * n, [&](int64_t begin, int64_t end) {
    // Operand offsets of the first row from its index, then a counter over dims 0 .. rank-2.
    std::vector<int64_t> counter(rank, 0);
    int64_t offA = 0, offB = 0, rest = begin;
    for (size_t d = rank - 1; d-- > 0;) {
      counter[d] = rest % l.dims[d];
      rest /= l.dims[d];
      offA += counter[d] * l.strideA[d];
      offB += counter[d] * l.strideB[d];
    }
    for (int64_t row = begin; row < end; ++row) {
      Row<op>(a + offA, ia, b + offB, ib, out + row * n, n);
      for (size_t d = rank - 1; d-- > 0;) {
        offA += l.strideA[d];
        offB += l.strideB[d];
        if (++counter[d] < l.dims[d]) break;
        offA -= l.strideA[d] * l.dims[d];
        offB -= l.strideB[d] * l.dims[d];
        counter[d] = 0;
      }
    }
  });
}

// e^y for y in [-18.1, 0] in float, with no branch or call, so that loops over it vectorize:
// y = k ln2 + t (|t| <= ln2 / 2, ln2 split in two for exactness), e^t from a degree-7 polynomial
// (error below 2e-8 relative), 2^k written into the exponent bits.
inline float ExpNegative(float y) {
  const float shifted = y * 1.44269504f + 12582912.0f;  // 1.5 * 2^23: rounds to an integer
  const float k = shifted - 12582912.0f;
  const float t = (y - k * 0.693145752f) - k * 1.42860677e-6f;
  float p = 1.0f / 5040.0f;
  p = p * t + 1.0f / 720.0f;
  p = p * t + 1.0f / 120.0f;
  p = p * t + 1.0f / 24.0f;
  p = p * t + 1.0f / 6.0f;
  p = p * t + 0.5f;
  p = p * t + 1.0f;
  p = p * t + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// tanh within a few float ulps (relative 4e-7, checked against double precision in the tests), in
// straight-line code: the odd Taylor series below 0.55, (1 - e^-2|x|) / (1 + e^-2|x|) above,
// +-1 from 9 on (float cannot tell tanh from 1 there); NaN stays NaN.
inline float Tanh(float x) {
  const float a = std::fabs(x);
  const float z = x * x;
  float p = -929569.0f / 638512875.0f;
  p = p * z + 21844.0f / 6081075.0f;
  p = p * z - 1382.0f / 155925.0f;
  p = p * z + 62.0f / 2835.0f;
  p = p * z - 17.0f / 315.0f;
  p = p * z + 2.0f / 15.0f;
  p = p * z - 1.0f / 3.0f;
  const float small = x * (1.0f + z * p);
  const float e = ExpNegative(-2.0f * (a < 9.0f ? a : 9.0f));
  const float large = std::copysign((1.0f - e) / (1.0f + e), x);
  return a < 0.55f ? small : (a == a ? large : x);
}

// tanh over a buffer: the one compute-bound loop here, so it gets AVX-512 and AVX2 versions, picked at
// load time for the CPU at hand.
__attribute__((target_clones("avx512f", "avx2", "default"))) void TanhRange(const float* in, float* o, int64_t begin,
                                                                          int64_t end) {
  for (int64_t i = begin; i < end; ++i) o[i] = Tanh(in[i]);
}

// out[i] = f(i) for every i < n, split among the threads where large.
template <typename F>
void Map(int64_t n, F f) {
  ParallelFor(n, n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) f(i);
  });
}

// binary(op, a, b, out, dims): op 0 add, 1 sub, 2 mul, 3 div, 4 squared difference ((a − b)² in
// double, rounded once, as tfjs's cpu kernel computes it); dims is an Int32Array starting [aRank,
// bRank, ...aShape, ...bShape] (what follows is not read); out has the broadcast shape.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const Positional args(info, "binary", 5);
  const int64_t op = args.Int(0, "op", 0, 4);
  const F32 a = args.Floats(1, "a");
  const F32 b = args.Floats(2, "b");
  const F32 out = args.Floats(3, "out");
  const std::vector<int64_t> dims = args.Ints(4, "dims");
  if (dims.size() < 2) args.Fail("'dims' must start with the ranks of a and b");
  const auto aShape = args.Shape(dims, 2, dims[0], "aShape");
  const auto bShape = args.Shape(dims, 2 + aShape.size(), dims[1], "bShape");
  Napi::Env env = args.Env();
  args.ExpectLength(a, CheckedProduct(env, aShape), "a");
  args.ExpectLength(b, CheckedProduct(env, bShape), "b");
  Layout layout = Broadcast(env, aShape, bShape);
  args.ExpectLength(out, CheckedProduct(env, layout.dims), "out");
  switch (op) {
    case 0:
      Run<BinaryOp::kAdd>(layout, a.data, b.data, out.data);
      break;
    case 1:
      Run<BinaryOp::kSub>(layout, a.data, b.data, out.data);
      break;
    case 2:
      Run<BinaryOp::kMul>(layout, a.data, b.data, out.data);
      break;
    case 3:
      Run<BinaryOp::kDiv>(layout, a.data, b.data, out.data);
      break;
    default:
      Run<BinaryOp::kSquaredDifference>(layout, a.data, b.data, out.data);
  }
  return env.Undefined();
}

// unary(op, x, out, alpha): op 0 relu, 1 tanh, 2 step (1 for x > 0, alpha otherwise, NaN for NaN),
// 3 square, 4 neg; alpha is read by step only.
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const Positional args(info, "unary", 4);
  const int64_t op = args.Int(0, "op", 0, 4);
  const F32 x = args.Floats(1, "x");
  const F32 out = args.Floats(2, "out");
  const float alpha = static_cast<float>(args.Number(3, "alpha"));
  args.ExpectLength(out, x.length, "out");
  const int64_t n = x.length;
  const float* in = x.data;
  float* o = out.data;
  switch (op) {
    case 0:
      Map(n, [&](int64_t i) { o[i] = Relu(in[i]); });
      break;
    case 1:
      ParallelFor(n, n, [&](int64_t begin, int64_t end) { TanhRange(in, o, begin, end); });
      break;
    case 2:
      Map(n, [&](int64_t i) { o[i] = in[i] > 0.0f ? 1.0f : (std::isnan(in[i]) ? in[i] : alpha); });
      break;
    case 3:
      Map(n, [&](int64_t i) { o[i] = in[i] * in[i]; });
      break;
    default:
      Map(n, [&](int64_t i) { o[i] = -in[i]; });
  }
  return args.Env().Undefined();
}

// unaryGrad(op, dy, x, out): the gradient of a unary op through its saved tensor x (the input of
// relu and square, the output of tanh), in one pass, with tfjs's arithmetic: op 0 relu dy·step(x),
// 1 tanh (1 − x²)·dy, 2 square dy·(2x). dy has x's length, or repeats along x every dy.length
// elements (a gradient broadcast over leading axes, read without making it full size).
Napi::Value UnaryGrad(const Napi::CallbackInfo& info) {
  const Positional args(info, "unaryGrad", 4);
  const int64_t op = args.Int(0, "op", 0, 2);
  const F32 dy = args.Floats(1, "dy");
  const F32 x = args.Floats(2, "x");
  const F32 out = args.Floats(3, "out");
  args.ExpectLength(out, x.length, "out");
  const int64_t n = x.length;
  const int64_t period = dy.length;
  if (period == 0 || n % period != 0) args.Fail("'dy' must have x's length or a length that divides it");
  const float* g = dy.data;
  const float* in = x.data;
  float* o = out.data;
  // fn(i, g_i) for every element, g_i = dy[i mod period]: split by element when dy is full size,
  // by blocks of `period` elements when it repeats.
  auto each = [&](auto fn) {
    if (period == n) {
      ParallelFor(n, n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) fn(i, g[i]);
      });
      return;
    }
    ParallelFor(n / period, n, [&](int64_t begin, int64_t end) {
      for (int64_t block = begin; block < end; ++block) {
        const int64_t base = block * period;
        for (int64_t j = 0; j < period; ++j) fn(base + j, g[j]);
      }
    });
  };
  switch (op) {
    case 0:
      each([&](int64_t i, float gi) { o[i] = gi * ReluStep(in[i]); });
      break;
    case 1:
      each([&](int64_t i, float gi) { o[i] = (1.0f - in[i] * in[i]) * gi; });
      break;
    default:
      each([&](int64_t i, float gi) { o[i] = SquareGrad(gi, in[i]); });
  }
  return args.Env().Undefined();
}

// The kinds of a sumTerms term.
enum TermKind : int { kArray = 0, kSquareGrad = 1, kShiftedSquareGrad = 2 };

// A term of sumTerms: `values` (out's length, or repeating along out every `period` elements); for
// a square's gradient values·(2x), `x` of out's length; for the gradient of the square of a shifted
// x values·(2(x + shift)), also `shift` (repeating every `shiftPeriod`): x + shift is what a
// subtraction of a repeating array (tf.moments' x − mean) wrote, which it replaces.
struct Term {
  int kind = kArray;
  const float* values = nullptr;
  int64_t period = 0;
  const float* x = nullptr;
  const float* shift = nullptr;
  int64_t shiftPeriod = 1;
};

// Term k of a run, from its values v, x and shift s (each already at the run's start).
template <int kKind>
inline float TermValue(const float* __restrict__ v, const float* __restrict__ x, const float* __restrict__ s,
                       int64_t k) {
  if constexpr (kKind == kShiftedSquareGrad)
    return SquareGrad(v[k], x[k] + s[k]);
  else if constexpr (kKind == kSquareGrad)
    return SquareGrad(v[k], x[k]);
  else
    return v[k];
}

// Where each term's arrays are at the start of a run.
struct RunPointers {
  const float* v[3] = {nullptr, nullptr, nullptr};
  const float* x[3] = {nullptr, nullptr, nullptr};
  const float* s[3] = {nullptr, nullptr, nullptr};
};

// o[k] = t0[k] + t1[k] + … (up to three terms, left to right) for k < n, in one loop: the partial
// sums stay in registers; with kRelu, relu of the sum.
template <int kTerms, bool kRelu, int kK0, int kK1, int kK2>
void SumRun(float* __restrict__ o, const RunPointers& p, int64_t n) {
  const float* __restrict__ v0 = p.v[0];
  const float* __restrict__ x0 = p.x[0];
  const float* __restrict__ s0 = p.s[0];
  const float* __restrict__ v1 = p.v[1];
  const float* __restrict__ x1 = p.x[1];
  const float* __restrict__ s1 = p.s[1];
  const float* __restrict__ v2 = p.v[2];
  const float* __restrict__ x2 = p.x[2];
  const float* __restrict__ s2 = p.s[2];
  for (int64_t k = 0; k < n; ++k) {
    float sum = TermValue<kK0>(v0, x0, s0, k);
    if constexpr (kTerms > 1) sum = sum + TermValue<kK1>(v1, x1, s1, k);
    if constexpr (kTerms > 2) sum = sum + TermValue<kK2>(v2, x2, s2, k);
    if constexpr (kRelu)
      o[k] = Relu(sum);
    else
      o[k] = sum;
  }
}

// o[k] += t[k] for k < n (a fourth or later term).
template <int kKind>
void AddRun(float* __restrict__ o, const RunPointers& p, int64_t n) {
  const float* __restrict__ v = p.v[0];
  const float* __restrict__ x = p.x[0];
  const float* __restrict__ s = p.s[0];
  for (int64_t k = 0; k < n; ++k) o[k] = o[k] + TermValue<kKind>(v, x, s, k);
}

using RunFn = void (*)(float*, const RunPointers&, int64_t);

// SumRun for kTerms terms (1 to 3), relu or not, and their kinds (term i's kind the i-th base-3
// digit of `code`).
template <int kTerms, bool kRelu, int kCode = 0>
RunFn PickSumRun(int code) {
  constexpr auto fn = SumRun<kTerms, kRelu, kCode % 3, kCode / 3 % 3, kCode / 9 % 3>;
  if constexpr (kCode + 1 == (kTerms == 1 ? 3 : kTerms == 2 ? 9 : 27))
    return fn;
  else
    return code == kCode ? fn : PickSumRun<kTerms, kRelu, kCode + 1>(code);
}

template <bool kRelu>
RunFn PickSumRun(size_t terms, int code) {
  return terms == 1 ? PickSumRun<1, kRelu>(code) : terms == 2 ? PickSumRun<2, kRelu>(code) : PickSumRun<3, kRelu>(code);
}

RunFn PickAddRun(int kind) {
  return kind == kShiftedSquareGrad ? AddRun<kShiftedSquareGrad> : kind == kSquareGrad ? AddRun<kSquareGrad> : AddRun<kArray>;
}

// Terms at most this many are summed in one loop; a fourth and later ones are added in a pass each
// over a chunk of out held in L1.
constexpr size_t kFusedTerms = 3;

// fn(out + i, pointers, run) over [begin, end) for terms[0 .. count), in runs of consecutive
// elements within every repeating array's period.
void ForRuns(const Term* terms, size_t count, RunFn fn, int64_t begin, int64_t end, float* out) {
  RunPointers p;
  int64_t j[kFusedTerms] = {0, 0, 0};
  int64_t js[kFusedTerms] = {0, 0, 0};
  for (size_t t = 0; t < count; ++t) {
    j[t] = begin % terms[t].period;
    js[t] = begin % terms[t].shiftPeriod;
  }
  for (int64_t i = begin; i < end;) {
    int64_t run = end - i;
    for (size_t t = 0; t < count; ++t) {
      const Term& term = terms[t];
      run = std::min(run, term.period - j[t]);
      p.v[t] = term.values + j[t];
      p.x[t] = term.x == nullptr ? nullptr : term.x + i;
      if (term.shift != nullptr) {
        run = std::min(run, term.shiftPeriod - js[t]);
        p.s[t] = term.shift + js[t];
      }
    }
    fn(out + i, p, run);
    i += run;
    for (size_t t = 0; t < count; ++t) {
      if ((j[t] += run) == terms[t].period) j[t] = 0;
      if ((js[t] += run) == terms[t].shiftPeriod) js[t] = 0;
    }
  }
}

constexpr size_t kMaxTerms = 8;
// Elements per chunk: a chunk of out stays in L1 while every term is added to it.
constexpr int64_t kTermChunk = 2048;
// The shortest run of a repeating term's values (see SumTerms).
constexpr int64_t kMinRun = 256;

// sumTerms(kinds, out, ...arrays): out = t_0 + t_1 + …, added left to right in float (the bits a
// chain of Add kernels gives), or relu of it (the bits of a Relu kernel after them). kinds is an
// Int32Array starting [count, relu, kind_0, …] (1 to 8 terms, relu 0 or 1; what follows is not
// read): 0 for an array of out's length or one that repeats along out every its-length elements (a
// broadcast over leading axes), taking one array; 1 for the gradient of a square dy·(2x) as
// unaryGrad computes it, taking dy (full or repeating) and x (out's length); 2 for that of a
// square of x + shift, dy·(2(x + shift)), taking dy, x and shift (full or repeating).
Napi::Value SumTerms(const Napi::CallbackInfo& info) {
  const Positional args(info, "sumTerms");
  if (args.Length() < 3) args.Fail("expected kinds, out and the terms' arrays");
  const std::vector<int64_t> layout = args.Ints(0, "kinds");
  if (layout.size() < 2 || layout[0] < 1 || layout[0] > static_cast<int64_t>(kMaxTerms) ||
      layout.size() < static_cast<size_t>(2 + layout[0]))
    args.Fail("'kinds' must start with the number of terms (1 to 8) and the relu flag, then hold a kind for each");
  if (layout[1] != 0 && layout[1] != 1) args.Fail("'kinds' must hold the relu flag, 0 or 1, second");
  const bool relu = layout[1] == 1;
  const std::vector<int64_t> kinds(layout.begin() + 2, layout.begin() + 2 + layout[0]);
  size_t expected = 2;
  for (int64_t kind : kinds) {
    if (kind < kArray || kind > kShiftedSquareGrad)
      args.Fail("'kinds' must hold 0 (an array), 1 (a square's gradient) or 2 (that of a shifted x) per term");
    expected += static_cast<size_t>(kind) + 1;
  }
  if (args.Length() != expected)
    args.Fail("expected kinds, out and " + std::to_string(expected - 2) + " arrays for the terms 'kinds' describes, got " +
              std::to_string(args.Length()) + " arguments");
  const F32 out = args.Floats(1, "out");
  const int64_t n = out.length;
  if (n == 0) args.Fail("'out' must not be empty");
  std::vector<Term> terms;
  // Short periods (a per-channel broadcast) repeated to at least kMinRun elements, so that each run
  // of a term is long enough to vectorize.
  std::vector<std::vector<float>> repeated;
  repeated.reserve(2 * kinds.size());
  const auto repeating = [&](size_t index, const char* name, const float** data, int64_t* period) {
    const F32 a = args.Floats(index, name);
    if (a.length == 0 || n % a.length != 0)
      args.Fail("a term's " + std::string(name) + " must have out's length or a length that divides it, got " +
                std::to_string(a.length) + " for " + std::to_string(n));
    *data = a.data;
    *period = a.length;
    if (a.length < kMinRun && a.length < n) {
      const int64_t copies = (kMinRun + a.length - 1) / a.length;
      std::vector<float>& copy = repeated.emplace_back(copies * a.length);
      for (int64_t k = 0; k < copies * a.length; ++k) copy[k] = a.data[k % a.length];
      *data = copy.data();
      *period = copies * a.length;
    }
  };
  size_t next = 2;
  for (int64_t kind : kinds) {
    Term term;
    term.kind = static_cast<int>(kind);
    repeating(next++, kind == kArray ? "values" : "dy", &term.values, &term.period);
    if (kind != kArray) {
      const F32 x = args.Floats(next++, "x");
      args.ExpectLength(x, n, "x");
      term.x = x.data;
    }
    if (kind == kShiftedSquareGrad) repeating(next++, "shift", &term.shift, &term.shiftPeriod);
    terms.push_back(term);
  }
  const size_t fused = std::min(terms.size(), kFusedTerms);
  int code = 0;
  for (size_t t = fused; t-- > 0;) code = code * 3 + terms[t].kind;
  // With more terms than one loop sums, the relu comes after the last.
  const bool reluInLoop = relu && fused == terms.size();
  const RunFn fn = reluInLoop ? PickSumRun<true>(fused, code) : PickSumRun<false>(fused, code);
  const int64_t chunks = (n + kTermChunk - 1) / kTermChunk;
  ParallelFor(chunks, n * static_cast<int64_t>(terms.size()), [&](int64_t first, int64_t last) {
    for (int64_t chunk = first; chunk < last; ++chunk) {
      const int64_t begin = chunk * kTermChunk;
      const int64_t end = std::min(n, begin + kTermChunk);
      ForRuns(terms.data(), fused, fn, begin, end, out.data);
      for (size_t t = fused; t < terms.size(); ++t)
        ForRuns(&terms[t], 1, PickAddRun(terms[t].kind), begin, end, out.data);
      if (relu && !reluInLoop)
        for (int64_t i = begin; i < end; ++i) out.data[i] = Relu(out.data[i]);
    }
  });
  return args.Env().Undefined();
}

// softmax({x, out, rows, cols}): softmax over each row of a [rows, cols] matrix.
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "softmax");
  F32 x = GetF32(p, "x");
  F32 out = GetF32(p, "out");
  const int64_t rows = GetInt(p, "rows", 1, kMaxDim);
  const int64_t cols = GetInt(p, "cols", 1, kMaxDim);
  const int64_t size = CheckedProduct(env, {rows, cols});
  ExpectLength(env, x, size, "x");
  ExpectLength(env, out, size, "out");
  for (int64_t r = 0; r < rows; ++r) {
    const float* xi = x.data + r * cols;
    float* o = out.data + r * cols;
    float max = xi[0];
    for (int64_t j = 0; j < cols; ++j) max = (std::isnan(xi[j]) || xi[j] > max) ? xi[j] : max;
    double sum = 0.0;
    for (int64_t j = 0; j < cols; ++j) {
      o[j] = std::exp(xi[j] - max);
      sum += o[j];
    }
    const float total = static_cast<float>(sum);
    for (int64_t j = 0; j < cols; ++j) o[j] /= total;
  }
  return env.Undefined();
}

}  // namespace

void InitElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("unaryGrad", Napi::Function::New(env, UnaryGrad));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("sumTerms", Napi::Function::New(env, SumTerms));
}

}  // namespace onednn_backend
