// Batched matrix multiplication on OpenBLAS sgemm, with an optional per-column bias and relu.
#include <cblas.h>

#include <algorithm>

#include "common.h"

namespace onednn_backend {
namespace {

// matMul({a, b, out, batchA, batchB, m, n, k, transposeA, transposeB, bias?, relu?})
// a: [batchA, m, k] ([batchA, k, m] when transposeA), b: [batchB, k, n] ([batchB, n, k] when transposeB),
// out: [max(batchA, batchB), m, n]. batchA and batchB must be equal or one of them 1.
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "matMul");
  F32 a = GetF32(p, "a");
  F32 b = GetF32(p, "b");
  F32 out = GetF32(p, "out");
  const int64_t batchA = GetInt(p, "batchA", 1, kMaxDim);
  const int64_t batchB = GetInt(p, "batchB", 1, kMaxDim);
  const int64_t m = GetInt(p, "m", 1, kMaxDim);
  const int64_t n = GetInt(p, "n", 1, kMaxDim);
  const int64_t k = GetInt(p, "k", 1, kMaxDim);
  const bool transA = GetBoolOr(p, "transposeA", false);
  const bool transB = GetBoolOr(p, "transposeB", false);
  const bool relu = GetBoolOr(p, "relu", false);
  if (batchA != batchB && batchA != 1 && batchB != 1) Fail(env, "matMul: batchA and batchB must match or be 1");
  const int64_t batch = std::max(batchA, batchB);
  ExpectLength(env, a, CheckedProduct(env, {batchA, m, k}), "a");
  ExpectLength(env, b, CheckedProduct(env, {batchB, k, n}), "b");
  ExpectLength(env, out, CheckedProduct(env, {batch, m, n}), "out");
  F32 bias;
  const bool hasBias = Has(p, "bias");
  if (hasBias) {
    bias = GetF32(p, "bias");
    ExpectLength(env, bias, n, "bias");
  }
  if (CheckedProduct(env, {m, k}) > kMaxDim || CheckedProduct(env, {k, n}) > kMaxDim ||
      CheckedProduct(env, {batch, m, n}) > kMaxDim) {
    Fail(env, "matMul: matrices above 2^31-1 elements are not supported");
  }

  const auto ta = transA ? CblasTrans : CblasNoTrans;
  const auto tb = transB ? CblasTrans : CblasNoTrans;
  const int lda = static_cast<int>(transA ? m : k);
  const int ldb = static_cast<int>(transB ? k : n);
  if (batchB == 1 && batchA > 1 && !transA) {
    // Rows of every batch of a stack into one tall matrix against the shared b.
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(batchA * m), static_cast<int>(n), static_cast<int>(k), 1.0f,
                a.data, lda, b.data, ldb, 0.0f, out.data, static_cast<int>(n));
  } else {
    for (int64_t i = 0; i < batch; ++i) {
      const float* ai = a.data + (batchA == 1 ? 0 : i) * m * k;
      const float* bi = b.data + (batchB == 1 ? 0 : i) * k * n;
      cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, ai, lda,
                  bi, ldb, 0.0f, out.data + i * m * n, static_cast<int>(n));
    }
  }
  if (hasBias || relu) {
    const int64_t rows = batch * m;
    for (int64_t r = 0; r < rows; ++r) {
      float* row = out.data + r * n;
      if (hasBias) {
        for (int64_t j = 0; j < n; ++j) row[j] += bias.data[j];
      }
      if (relu) {
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.0f ? 0.0f : row[j];
      }
    }
  }
  return env.Undefined();
}

}  // namespace

void InitMatMul(Napi::Env env, Napi::Object exports) { exports.Set("matMul", Napi::Function::New(env, MatMul)); }

}  // namespace onednn_backend
