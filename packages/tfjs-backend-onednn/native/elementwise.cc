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

enum class BinaryOp { kAdd, kSub, kMul, kDiv };

template <BinaryOp op>
inline float Apply(float a, float b) {
  if constexpr (op == BinaryOp::kAdd) return a + b;
  if constexpr (op == BinaryOp::kSub) return a - b;
  if constexpr (op == BinaryOp::kMul) return a * b;
  return a / b;
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

// binary({op: 'add'|'sub'|'mul'|'div', a, aShape, b, bShape, out}): out has the broadcast shape.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "binary");
  const std::string op = GetString(p, "op");
  F32 a = GetF32(p, "a");
  F32 b = GetF32(p, "b");
  F32 out = GetF32(p, "out");
  const auto aShape = GetShape(p, "aShape");
  const auto bShape = GetShape(p, "bShape");
  ExpectLength(env, a, CheckedProduct(env, aShape), "a");
  ExpectLength(env, b, CheckedProduct(env, bShape), "b");
  Layout layout = Broadcast(env, aShape, bShape);
  ExpectLength(env, out, CheckedProduct(env, layout.dims), "out");
  if (op == "add") {
    Run<BinaryOp::kAdd>(layout, a.data, b.data, out.data);
  } else if (op == "sub") {
    Run<BinaryOp::kSub>(layout, a.data, b.data, out.data);
  } else if (op == "mul") {
    Run<BinaryOp::kMul>(layout, a.data, b.data, out.data);
  } else if (op == "div") {
    Run<BinaryOp::kDiv>(layout, a.data, b.data, out.data);
  } else {
    Fail(env, "binary: unknown op '" + op + "'");
  }
  return env.Undefined();
}

// unary({op: 'relu'|'tanh'|'step'|'square'|'neg', x, out, alpha?}): step gives 1 for x > 0, alpha otherwise,
// NaN for NaN.
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "unary");
  const std::string op = GetString(p, "op");
  F32 x = GetF32(p, "x");
  F32 out = GetF32(p, "out");
  ExpectLength(env, out, x.length, "out");
  const int64_t n = x.length;
  const float* in = x.data;
  float* o = out.data;
  if (op == "relu") {
    Map(n, [&](int64_t i) { o[i] = in[i] < 0.0f ? 0.0f : in[i]; });
  } else if (op == "tanh") {
    ParallelFor(n, n, [&](int64_t begin, int64_t end) { TanhRange(in, o, begin, end); });
  } else if (op == "step") {
    const float alpha = static_cast<float>(GetNumberOr(p, "alpha", 0.0));
    Map(n, [&](int64_t i) { o[i] = in[i] > 0.0f ? 1.0f : (std::isnan(in[i]) ? in[i] : alpha); });
  } else if (op == "square") {
    Map(n, [&](int64_t i) { o[i] = in[i] * in[i]; });
  } else if (op == "neg") {
    Map(n, [&](int64_t i) { o[i] = -in[i]; });
  } else {
    Fail(env, "unary: unknown op '" + op + "'");
  }
  return env.Undefined();
}

// unaryGrad({op: 'relu'|'tanh'|'square', dy, x, out}): the gradient of unary op through its saved
// tensor x (the input of relu and square, the output of tanh), in one pass, with tfjs's arithmetic:
// relu dy·step(x), tanh (1 − x²)·dy, square dy·(2x).
Napi::Value UnaryGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "unaryGrad");
  const std::string op = GetString(p, "op");
  F32 dy = GetF32(p, "dy");
  F32 x = GetF32(p, "x");
  F32 out = GetF32(p, "out");
  ExpectLength(env, x, dy.length, "x");
  ExpectLength(env, out, dy.length, "out");
  const int64_t n = dy.length;
  const float* g = dy.data;
  const float* in = x.data;
  float* o = out.data;
  if (op == "relu") {
    Map(n, [&](int64_t i) { o[i] = g[i] * (in[i] != in[i] ? in[i] : (in[i] > 0.0f ? 1.0f : 0.0f)); });
  } else if (op == "tanh") {
    Map(n, [&](int64_t i) { o[i] = (1.0f - in[i] * in[i]) * g[i]; });
  } else if (op == "square") {
    Map(n, [&](int64_t i) { o[i] = g[i] * (in[i] * 2.0f); });
  } else {
    Fail(env, "unaryGrad: unknown op '" + op + "'");
  }
  return env.Undefined();
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
}

}  // namespace onednn_backend
