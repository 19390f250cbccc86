// Splitting a loop among the OpenMP threads, only where that pays.
#pragma once

#include <omp.h>

#include <cstdint>

namespace onednn_backend {

// Below this many elements touched a loop runs on one thread: forking costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

// Runs fn(begin, end) over [0, n), one contiguous chunk per OpenMP thread, when the loop touches at
// least kParallelMin elements (`work`) and more than one thread is set; otherwise on the calling
// thread, without entering an OpenMP region at all (one costs microseconds even on one thread).
template <typename Fn>
void ParallelFor(int64_t n, int64_t work, Fn fn) {
  if (n <= 0) return;
  if (work < kParallelMin || n == 1 || omp_get_max_threads() == 1) {
    fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads();
    const int64_t thread = omp_get_thread_num();
    const int64_t begin = n * thread / threads;
    const int64_t end = n * (thread + 1) / threads;
    if (begin < end) fn(begin, end);
  }
}

}  // namespace onednn_backend
