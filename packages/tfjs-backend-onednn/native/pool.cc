// 2-D max and average pooling on NHWC tensors with their gradients. Windows are clipped to the
// input; the max picks the first largest element in row-major window order, and its gradient
// goes to that element only.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "common.h"
#include "parallel.h"

namespace onednn_backend {
namespace {

struct PoolShape {
  int64_t batch, inH, inW, channels, outH, outW, kH, kW, strideH, strideW, padTop, padLeft;
  int64_t InSize() const { return batch * inH * inW * channels; }
  int64_t OutSize() const { return batch * outH * outW * channels; }
};

PoolShape ParsePool(Napi::Object p) {
  Napi::Env env = p.Env();
  PoolShape s{};
  s.batch = GetInt(p, "batch", 1, kMaxDim);
  s.inH = GetInt(p, "inH", 1, kMaxDim);
  s.inW = GetInt(p, "inW", 1, kMaxDim);
  s.channels = GetInt(p, "channels", 1, kMaxDim);
  s.outH = GetInt(p, "outH", 1, kMaxDim);
  s.outW = GetInt(p, "outW", 1, kMaxDim);
  s.kH = GetInt(p, "kH", 1, kMaxDim);
  s.kW = GetInt(p, "kW", 1, kMaxDim);
  s.strideH = GetInt(p, "strideH", 1, kMaxDim);
  s.strideW = GetInt(p, "strideW", 1, kMaxDim);
  s.padTop = GetInt(p, "padTop", 0, s.kH - 1);
  s.padLeft = GetInt(p, "padLeft", 0, s.kW - 1);
  CheckedProduct(env, {s.batch, s.inH, s.inW, s.channels});
  CheckedProduct(env, {s.batch, s.outH, s.outW, s.channels});
  CheckedProduct(env, {s.outH, s.strideH});
  CheckedProduct(env, {s.outW, s.strideW});
  return s;
}

// Per-thread scratch of the kernels that need none.
struct NoScratch {
  explicit NoScratch(const PoolShape&) {}
};

// A channel vector per thread (a window's sums).
struct ChannelScratch : std::vector<float> {
  explicit ChannelScratch(const PoolShape& s) : std::vector<float>(s.channels) {}
};

// Calls fn(scratch, b, oh, ow, rowBegin, rowEnd, colBegin, colEnd) for every output position, with the
// window clipped to the input, after startImage(b) for each image. Images are shared among the
// OpenMP threads, each with its own Scratch(shape): fn may write anywhere in image b.
template <typename Scratch, typename Fn, typename Start = void (*)(int64_t)>
void ForEachWindow(const PoolShape& s, Fn fn, Start startImage = [](int64_t) {}) {
  ParallelFor(s.batch, s.InSize(), [&](int64_t first, int64_t last) {
    Scratch scratch(s);
    for (int64_t b = first; b < last; ++b) {
      startImage(b);
      for (int64_t oh = 0; oh < s.outH; ++oh) {
        const int64_t r0 = oh * s.strideH - s.padTop;
        const int64_t rBegin = std::max<int64_t>(r0, 0);
        const int64_t rEnd = std::min(r0 + s.kH, s.inH);
        for (int64_t ow = 0; ow < s.outW; ++ow) {
          const int64_t c0 = ow * s.strideW - s.padLeft;
          const int64_t cBegin = std::max<int64_t>(c0, 0);
          const int64_t cEnd = std::min(c0 + s.kW, s.inW);
          fn(scratch, b, oh, ow, rBegin, rEnd, cBegin, cEnd);
        }
      }
    }
  });
}

inline int64_t InIndex(const PoolShape& s, int64_t b, int64_t r, int64_t c) {
  return ((b * s.inH + r) * s.inW + c) * s.channels;
}

inline int64_t OutIndex(const PoolShape& s, int64_t b, int64_t oh, int64_t ow) {
  return ((b * s.outH + oh) * s.outW + ow) * s.channels;
}

// maxPool({x, out, <shape>})
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "maxPool");
  F32 x = GetF32(p, "x");
  F32 out = GetF32(p, "out");
  PoolShape s = ParsePool(p);
  ExpectLength(env, x, s.InSize(), "x");
  ExpectLength(env, out, s.OutSize(), "out");
  const int64_t C = s.channels;
  ForEachWindow<NoScratch>(s, [&](NoScratch&, int64_t b, int64_t oh, int64_t ow, int64_t r0, int64_t r1, int64_t c0,
                                   int64_t c1) {
    float* o = out.data + OutIndex(s, b, oh, ow);
    std::fill(o, o + C, -std::numeric_limits<float>::infinity());
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t c = c0; c < c1; ++c) {
        const float* xi = x.data + InIndex(s, b, r, c);
        for (int64_t d = 0; d < C; ++d) o[d] = xi[d] > o[d] ? xi[d] : o[d];
      }
    }
  });
  return env.Undefined();
}

// One window element's step of the arg-max over channels: where x beats the best so far, take its
// value and its window position k (kept as a float, exact for any window size, so that the select
// is one vector blend).
__attribute__((target_clones("avx512f", "avx2", "default"))) void ArgMaxStep(const float* x, float* best, float* where,
                                                                             float k, int64_t n) {
  for (int64_t d = 0; d < n; ++d) {
    const bool larger = x[d] > best[d];
    best[d] = larger ? x[d] : best[d];
    where[d] = larger ? k : where[d];
  }
}

// maxPoolGrad({dy, x, dx, <shape>}): each window's gradient goes to its first largest element.
// A thread owns its images' dx: it zeroes each image's and adds into it without races, overlapping
// windows included. The arg-max keeps the window position with a select, which vectorizes over
// the channels where a branch did not (8.8 → 2.1 ms on a [64, 32, 32, 32] input).
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "maxPoolGrad");
  F32 dy = GetF32(p, "dy");
  F32 x = GetF32(p, "x");
  F32 dx = GetF32(p, "dx");
  PoolShape s = ParsePool(p);
  ExpectLength(env, dy, s.OutSize(), "dy");
  ExpectLength(env, x, s.InSize(), "x");
  ExpectLength(env, dx, s.InSize(), "dx");
  const int64_t C = s.channels;
  const int64_t imageSize = s.inH * s.inW * C;
  struct ArgMax {
    std::vector<float> best, where;
    std::vector<int64_t> offsets;
    explicit ArgMax(const PoolShape& s) : best(s.channels), where(s.channels), offsets(s.kH * s.kW) {}
  };
  ForEachWindow<ArgMax>(
      s,
      [&](ArgMax& a, int64_t b, int64_t oh, int64_t ow, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
        std::fill(a.best.begin(), a.best.end(), -std::numeric_limits<float>::infinity());
        std::fill(a.where.begin(), a.where.end(), -1.0f);
        int64_t k = 0;
        for (int64_t r = r0; r < r1; ++r) {
          for (int64_t c = c0; c < c1; ++c, ++k) {
            a.offsets[k] = InIndex(s, b, r, c);
            ArgMaxStep(x.data + a.offsets[k], a.best.data(), a.where.data(), static_cast<float>(k), C);
          }
        }
        const float* g = dy.data + OutIndex(s, b, oh, ow);
        for (int64_t d = 0; d < C; ++d) {
          if (a.where[d] >= 0.0f) dx.data[a.offsets[static_cast<int64_t>(a.where[d])] + d] += g[d];
        }
      },
      [&](int64_t b) { std::fill(dx.data + b * imageSize, dx.data + (b + 1) * imageSize, 0.0f); });
  return env.Undefined();
}

// avgPool({x, out, <shape>}): the mean over the window's elements inside the input.
Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "avgPool");
  F32 x = GetF32(p, "x");
  F32 out = GetF32(p, "out");
  PoolShape s = ParsePool(p);
  ExpectLength(env, x, s.InSize(), "x");
  ExpectLength(env, out, s.OutSize(), "out");
  const int64_t C = s.channels;
  ForEachWindow<ChannelScratch>(s, [&](ChannelScratch& sum, int64_t b, int64_t oh, int64_t ow, int64_t r0,
                                           int64_t r1, int64_t c0, int64_t c1) {
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t c = c0; c < c1; ++c) {
        const float* xi = x.data + InIndex(s, b, r, c);
        for (int64_t d = 0; d < C; ++d) sum[d] += xi[d];
      }
    }
    const float count = static_cast<float>(std::max<int64_t>(r1 - r0, 0) * std::max<int64_t>(c1 - c0, 0));
    float* o = out.data + OutIndex(s, b, oh, ow);
    for (int64_t d = 0; d < C; ++d) o[d] = sum[d] / count;
  });
  return env.Undefined();
}

// avgPoolGrad({dy, dx, <shape>}): every in-input element of a window gets dy / (kH * kW).
Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "avgPoolGrad");
  F32 dy = GetF32(p, "dy");
  F32 dx = GetF32(p, "dx");
  PoolShape s = ParsePool(p);
  ExpectLength(env, dy, s.OutSize(), "dy");
  ExpectLength(env, dx, s.InSize(), "dx");
  const int64_t C = s.channels;
  const float scale = 1.0f / static_cast<float>(s.kH * s.kW);
  std::fill(dx.data, dx.data + dx.length, 0.0f);
  ForEachWindow<NoScratch>(s, [&](NoScratch&, int64_t b, int64_t oh, int64_t ow, int64_t r0, int64_t r1, int64_t c0,
                                   int64_t c1) {
    const float* g = dy.data + OutIndex(s, b, oh, ow);
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t c = c0; c < c1; ++c) {
        float* d = dx.data + InIndex(s, b, r, c);
        for (int64_t k = 0; k < C; ++k) d[k] += g[k] * scale;
      }
    }
  });
  return env.Undefined();
}

}  // namespace

void InitPool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("avgPool", Napi::Function::New(env, AvgPool));
  exports.Set("avgPoolGrad", Napi::Function::New(env, AvgPoolGrad));
}

}  // namespace onednn_backend
