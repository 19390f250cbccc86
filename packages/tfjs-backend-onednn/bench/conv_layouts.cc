// Convolutions of the bench workloads in the layout the backend runs them (NHWC activations, as
// tfjs stores them) against the layout oneDNN prefers when left to choose (format_tag::any: nChw8c
// under AVX2, nChw16c under AVX-512), for the forward pass, the input gradient and the weight
// gradient. It answers one question: would keeping activations in oneDNN's blocked layout between
// native kernels make the convolutions faster? Reorders into and out of the blocked layout are not
// counted in the blocked times, so they are the best such a design could reach; they are timed
// apart, as PyTorch pays them (each pass reorders its NHWC inputs in and its output out).
//
//   npm run bench:layouts -- [workload ...] [--rounds N]      (workloads: lenet5 cnn resnet20 alexnet)
//
// Threads follow OMP_NUM_THREADS (convolutions under 1e7 FLOPs on one, as the backend runs them),
// the ISA DNNL_MAX_CPU_ISA. Each round times both layouts, which one first alternating between
// rounds, every convolution several times (the median kept), cycling through buffers of twice the
// last-level cache so that activations arrive from memory as in a training step. Reported: the
// workload's summed milliseconds per pass and layout (median and range over the rounds),
// blocked/NHWC, and the reorders. Written against oneDNN 2.x (Debian's 2.6): 3.x dropped the
// operation descriptors used here.
#include <dnnl.hpp>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <array>
#include <string>
#include <vector>

namespace {

using dnnl::memory;
using tag = memory::format_tag;

// `count` convolution layers of one shape: input h × w × c, a k × k filter to oc channels, stride,
// and tfjs's "same" padding unless `valid`.
struct Conv {
  int count, h, w, c, k, oc, stride;
  bool valid = false;
};

// The bench workloads' convolutions (packages/cli/src/models). The input layer's input gradient
// is not computed by tfjs (nothing needs it), so it is skipped here too.
struct Workload {
  const char* name;
  int batch;
  std::vector<Conv> convs;
};

const std::vector<Workload> kWorkloads = {
    {"lenet5", 128, {{1, 28, 28, 1, 5, 6, 1}, {1, 14, 14, 6, 5, 16, 1, true}}},
    {"cnn", 64, {{1, 32, 32, 3, 3, 32, 1}, {1, 16, 16, 32, 3, 64, 1}}},
    {"resnet20",
     128,
     {{1, 32, 32, 3, 3, 16, 1},
      {6, 32, 32, 16, 3, 16, 1},
      {1, 32, 32, 16, 3, 32, 2},
      {5, 16, 16, 32, 3, 32, 1},
      {1, 16, 16, 32, 3, 64, 2},
      {5, 8, 8, 64, 3, 64, 1}}},
    {"alexnet",
     128,
     {{1, 32, 32, 3, 11, 64, 4},
      {1, 4, 4, 64, 5, 192, 1},
      {1, 2, 2, 192, 3, 384, 1},
      {1, 2, 2, 384, 3, 256, 1},
      {1, 2, 2, 256, 3, 256, 1}}},
};

// Each buffer ring holds at least twice the last-level cache (32 MiB where the system does not say).
size_t ColdBytes() {
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  return 2 * (l3 > 0 ? static_cast<size_t>(l3) : size_t{32} << 20);
}
constexpr int kReps = 9;

// As native/conv.cc runs them: convolutions under 1e7 FLOPs on one thread.
constexpr double kParallelMinFlops = 1e7;

dnnl::engine engine(dnnl::engine::kind::cpu, 0);
dnnl::stream stream(engine);

double Now() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Fill(memory& m) {
  auto* p = static_cast<float*>(m.get_data_handle());
  const size_t n = m.get_desc().get_size() / sizeof(float);
  for (size_t i = 0; i < n; i++) p[i] = static_cast<float>(i % 23) * 0.01f - 0.1f;
}

// Buffers of one descriptor, enough of them that cycling through them overflows the cache.
struct Ring {
  std::vector<memory> buffers;
  size_t next = 0;
  explicit Ring(const memory::desc& d) {
    const size_t size = std::max<size_t>(1, d.get_size());
    const size_t copies = (ColdBytes() + size - 1) / size;
    for (size_t i = 0; i < copies; i++) {
      buffers.emplace_back(d, engine);
      Fill(buffers.back());
    }
  }
  memory& Next() { return buffers[next++ % buffers.size()]; }
};

template <typename Fn>
double Median(Fn run) {
  std::vector<double> t;
  run();  // first touch, JIT
  for (int i = 0; i < kReps; i++) {
    const double start = Now();
    run();
    stream.wait();
    t.push_back(Now() - start);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Times {
  double forward = 0, data = 0, weights = 0;
  double reorders = 0;  // blocked only: NHWC in and out around each pass, as PyTorch runs them
  std::string impl;  // the implementations oneDNN chose for the forward pass and the weight gradient
};

// One convolution's three passes with activations in `activations` (nhwc or any).
Times TimeConv(const Conv& c, int batch, bool first, tag activations) {
  const bool valid = c.valid;
  const int64_t outH = valid ? c.h - c.k + 1 : (c.h + c.stride - 1) / c.stride;
  const int64_t outW = valid ? c.w - c.k + 1 : (c.w + c.stride - 1) / c.stride;
  const int64_t totalH = valid ? 0 : std::max<int64_t>(0, (outH - 1) * c.stride + c.k - c.h);
  const int64_t totalW = valid ? 0 : std::max<int64_t>(0, (outW - 1) * c.stride + c.k - c.w);
  // tfjs "same": the larger half of the padding at the end
  const double flops = 2.0 * batch * outH * outW * c.oc * c.k * c.k * c.c;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(flops < kParallelMinFlops ? 1 : threads);
  const memory::dims strides{c.stride, c.stride}, padL{totalH / 2, totalW / 2},
      padR{totalH - totalH / 2, totalW - totalW / 2};
  const memory::desc src({batch, c.c, c.h, c.w}, memory::data_type::f32, activations);
  const memory::desc dst({batch, c.oc, outH, outW}, memory::data_type::f32, activations);
  const memory::desc weights({c.oc, c.c, c.k, c.k}, memory::data_type::f32, tag::any);
  const auto alg = dnnl::algorithm::convolution_direct;

  dnnl::convolution_forward::primitive_desc fpd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, src, weights, dst, strides, padL, padR),
      engine);
  dnnl::convolution_backward_data::primitive_desc dpd(
      dnnl::convolution_backward_data::desc(alg, src, weights, dst, strides, padL, padR), engine, fpd);
  dnnl::convolution_backward_weights::primitive_desc wpd(
      dnnl::convolution_backward_weights::desc(alg, src, weights, dst, strides, padL, padR), engine, fpd);

  // Each pass gets buffers in the layouts its own primitive chose (with `any` they may differ).
  Ring x(fpd.src_desc()), y(fpd.dst_desc()), dx(dpd.diff_src_desc()), dy(dpd.diff_dst_desc());
  Ring weightsX(wpd.src_desc()), weightsDy(wpd.diff_dst_desc());
  memory w(fpd.weights_desc(), engine), wData(dpd.weights_desc(), engine), dw(wpd.diff_weights_desc(), engine);
  Fill(w);
  Fill(wData);
  dnnl::convolution_forward forward(fpd);
  dnnl::convolution_backward_data data(dpd);
  dnnl::convolution_backward_weights weightsGrad(wpd);

  Times t;
  t.impl = fpd.impl_info_str();
  if (wpd.impl_info_str() != t.impl) t.impl += std::string(" / ") + wpd.impl_info_str();
  t.forward = Median([&] {
    forward.execute(stream, {{DNNL_ARG_SRC, x.Next()}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y.Next()}});
  });
  if (!first) {
    t.data = Median([&] {
      data.execute(stream, {{DNNL_ARG_DIFF_DST, dy.Next()}, {DNNL_ARG_WEIGHTS, wData}, {DNNL_ARG_DIFF_SRC, dx.Next()}});
    });
  }
  t.weights = Median([&] {
    weightsGrad.execute(stream,
                        {{DNNL_ARG_SRC, weightsX.Next()}, {DNNL_ARG_DIFF_DST, weightsDy.Next()}, {DNNL_ARG_DIFF_WEIGHTS, dw}});
  });
  if (activations == tag::any) {
    // x into the forward pass's and the weight gradient's layouts, dx out of the input gradient's;
    // y out of the forward pass's, dy into the input gradient's and the weight gradient's.
    const memory::desc plainSrc({batch, c.c, c.h, c.w}, memory::data_type::f32, tag::nhwc);
    const memory::desc plainDst({batch, c.oc, outH, outW}, memory::data_type::f32, tag::nhwc);
    Ring px(plainSrc), py(plainDst);
    const auto time = [&](Ring& from, Ring& to) {
      if (from.buffers[0].get_desc() == to.buffers[0].get_desc()) return 0.0;  // oneDNN chose NHWC there
      dnnl::reorder r(from.buffers[0], to.buffers[0]);
      return Median([&] { r.execute(stream, from.Next(), to.Next()); });
    };
    const double reorders = time(px, x) + time(px, weightsX) + (first ? 0 : time(dx, px)) + time(y, py) +
                            time(py, dy) + time(py, weightsDy);
    t.reorders = reorders;
  }
  omp_set_num_threads(threads);
  return t;
}

Times TimeWorkload(const Workload& workload, tag activations) {
  Times sum;
  for (size_t i = 0; i < workload.convs.size(); i++) {
    const Conv& c = workload.convs[i];
    const Times t = TimeConv(c, workload.batch, i == 0, activations);
    sum.forward += c.count * t.forward;
    sum.data += c.count * t.data;
    sum.weights += c.count * t.weights;
    sum.reorders += c.count * t.reorders;
    if (sum.impl.find(t.impl) == std::string::npos) sum.impl += (sum.impl.empty() ? "" : ", ") + t.impl;
  }
  return sum;
}

struct Summary {
  double median, low, high;
};

Summary Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  std::vector<const Workload*> chosen;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--rounds") == 0) {
      const char* value = i + 1 < argc ? argv[++i] : "nothing";
      char* end = nullptr;
      const long parsed = std::strtol(value, &end, 10);
      if (end == value || *end != '\0' || parsed < 1 || parsed > 1000) {
        std::fprintf(stderr, "--rounds takes a positive count, got %s\n", value);
        return 2;
      }
      rounds = static_cast<int>(parsed);
      continue;
    }
    auto found = std::find_if(kWorkloads.begin(), kWorkloads.end(),
                              [&](const Workload& w) { return std::strcmp(w.name, argv[i]) == 0; });
    if (found == kWorkloads.end()) {
      std::string names;
      for (const Workload& w : kWorkloads) names += (names.empty() ? "" : ", ") + std::string(w.name);
      std::fprintf(stderr, "unknown workload %s; choose from %s (or --rounds N)\n", argv[i], names.c_str());
      return 2;
    }
    chosen.push_back(&*found);
  }
  if (chosen.empty())
    for (const Workload& w : kWorkloads) chosen.push_back(&w);

  const char* threads = std::getenv("OMP_NUM_THREADS");
  const char* isa = std::getenv("DNNL_MAX_CPU_ISA");
  std::printf("threads %s, DNNL_MAX_CPU_ISA %s, %d rounds; ms per training step's convolutions\n",
              threads ? threads : "(OpenMP default)", isa ? isa : "(all)", rounds);
  std::printf("%-9s %-8s %-24s %-24s %-24s %-24s %s\n", "workload", "layout", "forward", "input grad", "weight grad",
              "total", "implementation (forward / weight grad)");
  for (const Workload* workload : chosen) {
    // [layout][forward, input gradient, weight gradient, total, reorders]
    std::array<std::array<std::vector<double>, 5>, 2> samples;
    std::string impl[2];
    for (int round = 0; round < rounds; round++) {
      for (int order = 0; order < 2; order++) {
        const int layout = round % 2 == 0 ? order : 1 - order;  // which layout goes first alternates
        const Times t = TimeWorkload(*workload, layout == 0 ? tag::nhwc : tag::any);
        samples[layout][0].push_back(t.forward);
        samples[layout][1].push_back(t.data);
        samples[layout][2].push_back(t.weights);
        samples[layout][3].push_back(t.forward + t.data + t.weights);
        samples[layout][4].push_back(t.reorders);
        impl[layout] = t.impl;
      }
    }
    for (int layout = 0; layout < 2; layout++) {
      std::printf("%-9s %-8s", workload->name, layout == 0 ? "nhwc" : "blocked");
      for (int pass = 0; pass < 4; pass++) {
        const Summary s = Summarize(samples[layout][pass]);
        char cell[64];
        std::snprintf(cell, sizeof cell, "%.1f (%.1f-%.1f)", s.median, s.low, s.high);
        std::printf(" %-24s", cell);
      }
      std::printf(" %s\n", impl[layout].c_str());
    }
    std::vector<double> ratios;
    for (int round = 0; round < rounds; round++) ratios.push_back(samples[1][3][round] / samples[0][3][round]);
    const Summary r = Summarize(ratios);
    const Summary reorders = Summarize(samples[1][4]);
    std::printf("%-9s blocked/nhwc %.2f (%.2f-%.2f); reorders to and from NHWC around every pass: %.1f ms (%.1f-%.1f)\n",
                workload->name, r.median, r.low, r.high, reorders.median, reorders.low, reorders.high);
  }
  return 0;
}
