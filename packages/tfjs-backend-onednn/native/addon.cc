// Module entry: kernel families plus thread control for oneDNN (OpenMP) and OpenBLAS.
#include <omp.h>

#include "common.h"

extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads(void);

namespace onednn_backend {
namespace {

// setThreads({threads}): the thread count for oneDNN and OpenBLAS.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Object p = ParamsObject(info, "setThreads");
  const int threads = static_cast<int>(GetInt(p, "threads", 1, 1024));
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

}  // namespace
}  // namespace onednn_backend

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace onednn_backend;
  InitBatchNorm(env, exports);
  InitMatMul(env, exports);
  InitConv(env, exports);
  InitPool(env, exports);
  InitElementwise(env, exports);
  InitReduce(env, exports);
  InitShape(env, exports);
  InitDistances(env, exports);
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  return exports;
}

NODE_API_MODULE(onednn_backend, Init)
