// Batch normalization over the last (channel) axis of a float32 tensor, and its gradient in one pass.
// Per channel c: r = 1 / sqrt(variance + epsilon), y = (x - mean) * r * scale + offset.
#include <cmath>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "common.h"
#include "parallel.h"

namespace onednn_backend {
namespace {

struct ChannelParams {
  F32 x, mean, variance;
  F32 scale;
  bool hasScale = false;  // without a scale, 1 for every channel
  int64_t channels = 0, rows = 0;
  double epsilon = 0;
};

// x is [rows, channels]; mean, variance (and scale when given) hold one value per channel.
ChannelParams ParseChannelParams(Napi::Object p) {
  Napi::Env env = p.Env();
  ChannelParams c;
  c.x = GetF32(p, "x");
  c.mean = GetF32(p, "mean");
  c.variance = GetF32(p, "variance");
  c.hasScale = Has(p, "scale");
  if (c.hasScale) c.scale = GetF32(p, "scale");
  c.channels = GetInt(p, "channels", 1, kMaxDim);
  c.epsilon = GetNumberOr(p, "epsilon", 0.001);
  if (!(c.epsilon >= 0) || !std::isfinite(c.epsilon)) Fail(env, "'epsilon' must be a finite non-negative number");
  if (c.x.length % c.channels != 0) Fail(env, "'x' length is not a multiple of 'channels'");
  c.rows = c.x.length / c.channels;
  ExpectLength(env, c.mean, c.channels, "mean");
  ExpectLength(env, c.variance, c.channels, "variance");
  if (c.hasScale) ExpectLength(env, c.scale, c.channels, "scale");
  return c;
}

std::vector<float> InverseStd(const ChannelParams& c) {
  std::vector<float> r(c.channels);
  for (int64_t k = 0; k < c.channels; ++k) r[k] = static_cast<float>(1.0 / std::sqrt(c.variance.data[k] + c.epsilon));
  return r;
}

// batchNorm({x, mean, variance, scale?, offset?, channels, epsilon, relu?, out}); with `relu`, the
// output of a Relu of the result, in the same pass (the bits of the two kernels one after the other).
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "batchNorm");
  const ChannelParams c = ParseChannelParams(p);
  F32 offset;
  const bool hasOffset = Has(p, "offset");
  if (hasOffset) {
    offset = GetF32(p, "offset");
    ExpectLength(env, offset, c.channels, "offset");
  }
  F32 out = GetF32(p, "out");
  ExpectLength(env, out, c.x.length, "out");
  const bool relu = GetBoolOr(p, "relu", false);
  const std::vector<float> r = InverseStd(c);
  std::vector<float> gain(c.channels), shift(c.channels);
  for (int64_t k = 0; k < c.channels; ++k) {
    gain[k] = r[k] * (c.hasScale ? c.scale.data[k] : 1.0f);
    shift[k] = hasOffset ? offset.data[k] : 0.0f;
  }
  const int64_t C = c.channels;
  ParallelFor(c.rows, c.x.length, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* xi = c.x.data + row * C;
      float* o = out.data + row * C;
      for (int64_t k = 0; k < C; ++k) o[k] = (xi[k] - c.mean.data[k]) * gain[k] + shift[k];
      if (relu)
        for (int64_t k = 0; k < C; ++k) o[k] = Relu(o[k]);
    }
  });
  return env.Undefined();
}

// One row of batchNormGrad: with g = dy, or dy·step(z) through a relu (as unaryGrad computes it),
// d = g·gain, and the block sums of g and g·(x − mean).
template <bool kRelu>
void AccumulateRow(const float* __restrict__ dy, const float* __restrict__ z, const float* __restrict__ x,
                   const float* __restrict__ mean, const float* __restrict__ gain, float* __restrict__ d,
                   float* __restrict__ sumG, float* __restrict__ sumCentered, int64_t channels) {
  for (int64_t k = 0; k < channels; ++k) {
    float g = dy[k];
    if constexpr (kRelu) g = g * ReluStep(z[k]);
    d[k] = g * gain[k];
    sumG[k] += g;
    sumCentered[k] += g * (x[k] - mean[k]);
  }
}

// batchNormGrad({x, dy, mean, variance, scale?, reluOutput?, channels, epsilon, dx, dMean, dVariance, dScale,
// dOffset}): the gradients of y with respect to each input, treating mean and variance as inputs (as tfjs does):
//   dx = dy·r·scale, dMean = −r·scale·Σdy, dVariance = −½·r³·scale·Σdy(x − mean),
//   dScale = r·Σdy(x − mean), dOffset = Σdy, sums over every row.
// With reluOutput (z = relu(y)), dy is the gradient of z, and the gradient of y is taken as a Relu
// gradient would make it: dy·step(z), NaN where z is NaN, with the same arithmetic.
Napi::Value BatchNormGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "batchNormGrad");
  const ChannelParams c = ParseChannelParams(p);
  F32 dy = GetF32(p, "dy");
  F32 dx = GetF32(p, "dx");
  F32 dMean = GetF32(p, "dMean");
  F32 dVariance = GetF32(p, "dVariance");
  F32 dScale = GetF32(p, "dScale");
  F32 dOffset = GetF32(p, "dOffset");
  const bool relu = Has(p, "reluOutput");
  F32 z;
  if (relu) {
    z = GetF32(p, "reluOutput");
    ExpectLength(env, z, c.x.length, "reluOutput");
  }
  ExpectLength(env, dy, c.x.length, "dy");
  ExpectLength(env, dx, c.x.length, "dx");
  for (auto [buffer, name] : {std::pair{dMean, "dMean"}, {dVariance, "dVariance"}, {dScale, "dScale"},
                              {dOffset, "dOffset"}}) {
    ExpectLength(env, buffer, c.channels, name);
  }
  const int64_t C = c.channels;
  const std::vector<float> r = InverseStd(c);
  std::vector<float> gain(C);
  for (int64_t k = 0; k < C; ++k) gain[k] = r[k] * (c.hasScale ? c.scale.data[k] : 1.0f);
  // Per thread: its sums in double, and the sums of the block of rows it is on in float (short
  // float sums keep the loop vectorized; the blocks add up in double); allocated before the parallel
  // region (where a failed allocation would end the process) and merged in thread order.
  const int threads = omp_get_max_threads();
  std::vector<std::vector<double>> localDy, localCentered;
  std::vector<std::vector<float>> blockDy, blockCentered;
  try {
    localDy.assign(threads, std::vector<double>(C, 0.0));
    localCentered.assign(threads, std::vector<double>(C, 0.0));
    blockDy.assign(threads, std::vector<float>(C));
    blockCentered.assign(threads, std::vector<float>(C));
  } catch (const std::bad_alloc&) {
    Fail(env, "batchNormGrad: out of memory for " + std::to_string(threads) + " × " + std::to_string(C) +
                  " partial sums");
  }
  // Blocks are fixed by row index, not by each thread's share, so the float sums are the same at
  // any thread count (only their order of addition in double depends on it, as before).
  constexpr int64_t kBlockRows = 64;
  const int64_t blocks = (c.rows + kBlockRows - 1) / kBlockRows;
  ParallelFor(blocks, c.x.length, [&](int64_t firstBlock, int64_t lastBlock) {
    const int64_t begin = firstBlock * kBlockRows;
    const int64_t end = std::min(c.rows, lastBlock * kBlockRows);
    const int thread = omp_get_thread_num();
    double* sumDyThread = localDy[thread].data();
    double* sumCenteredThread = localCentered[thread].data();
    float* accDy = blockDy[thread].data();
    float* accCentered = blockCentered[thread].data();
    const float* mean = c.mean.data;
    const float* gains = gain.data();
    for (int64_t first = begin; first < end; first += kBlockRows) {
      std::fill(accDy, accDy + C, 0.0f);
      std::fill(accCentered, accCentered + C, 0.0f);
      const int64_t last = std::min(end, first + kBlockRows);
      for (int64_t row = first; row < last; ++row) {
        const int64_t at = row * C;
        if (relu)
          AccumulateRow<true>(dy.data + at, z.data + at, c.x.data + at, mean, gains, dx.data + at, accDy, accCentered, C);
        else
          AccumulateRow<false>(dy.data + at, nullptr, c.x.data + at, mean, gains, dx.data + at, accDy, accCentered, C);
      }
      for (int64_t k = 0; k < C; ++k) {
        sumDyThread[k] += accDy[k];
        sumCenteredThread[k] += accCentered[k];
      }
    }
  });
  std::vector<double> sumDy(C, 0.0), sumDyCentered(C, 0.0);
  for (int t = 0; t < threads; ++t) {
    for (int64_t k = 0; k < C; ++k) {
      sumDy[k] += localDy[t][k];
      sumDyCentered[k] += localCentered[t][k];
    }
  }
  for (int64_t k = 0; k < C; ++k) {
    const double rk = r[k];
    const double scale = c.hasScale ? c.scale.data[k] : 1.0;
    dMean.data[k] = static_cast<float>(-rk * scale * sumDy[k]);
    dVariance.data[k] = static_cast<float>(-0.5 * rk * rk * rk * scale * sumDyCentered[k]);
    dScale.data[k] = static_cast<float>(rk * sumDyCentered[k]);
    dOffset.data[k] = static_cast<float>(sumDy[k]);
  }
  return env.Undefined();
}

}  // namespace

void InitBatchNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm));
  exports.Set("batchNormGrad", Napi::Function::New(env, BatchNormGrad));
}

}  // namespace onednn_backend
