// Batched matrix multiplication on OpenBLAS sgemm, with an optional per-column bias and relu.
#include <cblas.h>

#include <algorithm>

#include "common.h"

extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads(void);

namespace onednn_backend {
namespace {

// Below this many FLOPs (a fifth of a millisecond at one core's sgemm peak) a product runs on one
// OpenBLAS thread: waking the others costs more than they save. Under the AVX2 proxy, one thread
// against two: 128×120×84 (2.6 MFLOP) 37 against 65 µs, 128×400×120 (12 MFLOP) 140 against 166;
// 256³ (34 MFLOP) 336 against 263. OpenBLAS splits no sum over k among threads, so the result does
// not depend on the count.
constexpr double kGemmParallelMinFlops = 2e7;

// OpenBLAS's thread count set to one for a scope when `single`, and restored after it.
class SingleBlasThread {
 public:
  explicit SingleBlasThread(bool single) : saved_(single ? openblas_get_num_threads() : 1) {
    if (saved_ > 1) openblas_set_num_threads(1);
  }
  ~SingleBlasThread() {
    if (saved_ > 1) openblas_set_num_threads(saved_);
  }
  SingleBlasThread(const SingleBlasThread&) = delete;
  SingleBlasThread& operator=(const SingleBlasThread&) = delete;

 private:
  int saved_;
};

// matMul(dims, a, b, out, bias): dims is an Int32Array starting [batchA, batchB, m, n, k,
// transposeA, transposeB, relu] (flags 0 or 1; what follows is not read); a: [batchA, m, k]
// ([batchA, k, m] when transposeA), b: [batchB, k, n] ([batchB, n, k] when transposeB), out:
// [max(batchA, batchB), m, n]; bias: n values added to every row, or undefined. batchA and batchB
// must be equal or one of them 1.
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  const Positional args(info, "matMul", 5);
  Napi::Env env = args.Env();
  const std::vector<int64_t> dims = args.Ints(0, "dims");
  const F32 a = args.Floats(1, "a");
  const F32 b = args.Floats(2, "b");
  const F32 out = args.Floats(3, "out");
  const std::optional<F32> bias = args.FloatsOrNone(4, "bias");
  if (dims.size() < 8) args.Fail("'dims' must hold batchA, batchB, m, n, k, transposeA, transposeB, relu");
  static const char* const kNames[] = {"batchA", "batchB", "m", "n", "k", "transposeA", "transposeB", "relu"};
  for (size_t i = 0; i < 8; ++i) {
    const int64_t max = i < 5 ? kMaxDim : 1;
    if (dims[i] < (i < 5 ? 1 : 0) || dims[i] > max)
      args.Fail(std::string("'") + kNames[i] + "' must be " + (i < 5 ? "a size in [1, 2^31-1]" : "0 or 1"));
  }
  const int64_t batchA = dims[0], batchB = dims[1], m = dims[2], n = dims[3], k = dims[4];
  const bool transA = dims[5] == 1, transB = dims[6] == 1, relu = dims[7] == 1;
  if (batchA != batchB && batchA != 1 && batchB != 1) args.Fail("batchA and batchB must match or be 1");
  const int64_t batch = std::max(batchA, batchB);
  args.ExpectLength(a, CheckedProduct(env, {batchA, m, k}), "a");
  args.ExpectLength(b, CheckedProduct(env, {batchB, k, n}), "b");
  args.ExpectLength(out, CheckedProduct(env, {batch, m, n}), "out");
  const bool hasBias = bias.has_value();
  if (hasBias) args.ExpectLength(*bias, n, "bias");
  if (CheckedProduct(env, {m, k}) > kMaxDim || CheckedProduct(env, {k, n}) > kMaxDim ||
      CheckedProduct(env, {batch, m, n}) > kMaxDim) {
    args.Fail("matrices above 2^31-1 elements are not supported");
  }

  const auto ta = transA ? CblasTrans : CblasNoTrans;
  const auto tb = transB ? CblasTrans : CblasNoTrans;
  const int lda = static_cast<int>(transA ? m : k);
  const int ldb = static_cast<int>(transB ? k : n);
  const bool tall = batchB == 1 && batchA > 1 && !transA;
  // FLOPs of one sgemm call: the whole stack when it is one tall matrix, else one batch entry.
  const double flops =
      2.0 * static_cast<double>(tall ? batchA * m : m) * static_cast<double>(n) * static_cast<double>(k);
  const SingleBlasThread scope(flops < kGemmParallelMinFlops);
  if (tall) {
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
        for (int64_t j = 0; j < n; ++j) row[j] += bias->data[j];
      }
      if (relu) {
        for (int64_t j = 0; j < n; ++j) row[j] = Relu(row[j]);
      }
    }
  }
  return env.Undefined();
}

}  // namespace

void InitMatMul(Napi::Env env, Napi::Object exports) { exports.Set("matMul", Napi::Function::New(env, MatMul)); }

}  // namespace onednn_backend
