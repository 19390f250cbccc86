// 2-D convolution (NHWC activations, HWIO filters) on oneDNN: forward with optional bias and relu,
// backward data and backward weights. Weights use the layout oneDNN prefers; primitives are cached
// per shape.
#include <dnnl.hpp>
#include <omp.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "common.h"

namespace onednn_backend {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& Stream() {
  static dnnl::stream stream(Engine());
  return stream;
}

struct ConvShape {
  int64_t batch, inH, inW, inC, outH, outW, outC, kH, kW;
  int64_t strideH, strideW, padTop, padBottom, padLeft, padRight, dilationH, dilationW;

  memory::dims Src() const { return {batch, inC, inH, inW}; }
  memory::dims Dst() const { return {batch, outC, outH, outW}; }
  memory::dims Weights() const { return {outC, inC, kH, kW}; }
  memory::dims Strides() const { return {strideH, strideW}; }
  memory::dims Dilates() const { return {dilationH - 1, dilationW - 1}; }
  memory::dims PadL() const { return {padTop, padLeft}; }
  memory::dims PadR() const { return {padBottom, padRight}; }
  int64_t SrcSize() const { return batch * inH * inW * inC; }
  int64_t DstSize() const { return batch * outH * outW * outC; }
  int64_t WeightsSize() const { return kH * kW * inC * outC; }

  // Multiply-adds ×2 of the forward pass; backward data and backward weights do as many.
  double Flops() const {
    return 2.0 * static_cast<double>(batch) * static_cast<double>(outH * outW) * static_cast<double>(outC) *
           static_cast<double>(kH * kW) * static_cast<double>(inC);
  }

  // The primitive's OpenMP thread count is part of its key: oneDNN fixes it when the primitive is made.
  std::string Key(const char* kind, bool bias, bool relu, int threads) const {
    std::string key = kind;
    key += std::to_string(threads);
    for (int64_t v : {batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, padTop, padBottom, padLeft,
                      padRight, dilationH, dilationW}) {
      key += ',';
      key += std::to_string(v);
    }
    key += bias ? ",b" : ",-";
    key += relu ? ",r" : ",-";
    return key;
  }
};

ConvShape ParseShape(Napi::Object p) {
  Napi::Env env = p.Env();
  ConvShape s{};
  s.batch = GetInt(p, "batch", 1, kMaxDim);
  s.inH = GetInt(p, "inH", 1, kMaxDim);
  s.inW = GetInt(p, "inW", 1, kMaxDim);
  s.inC = GetInt(p, "inC", 1, kMaxDim);
  s.outH = GetInt(p, "outH", 1, kMaxDim);
  s.outW = GetInt(p, "outW", 1, kMaxDim);
  s.outC = GetInt(p, "outC", 1, kMaxDim);
  s.kH = GetInt(p, "kH", 1, kMaxDim);
  s.kW = GetInt(p, "kW", 1, kMaxDim);
  s.strideH = GetInt(p, "strideH", 1, kMaxDim);
  s.strideW = GetInt(p, "strideW", 1, kMaxDim);
  s.dilationH = GetIntOr(p, "dilationH", 1, kMaxDim, 1);
  s.dilationW = GetIntOr(p, "dilationW", 1, kMaxDim, 1);
  const int64_t effH = CheckedProduct(env, {s.kH - 1, s.dilationH}) + 1;
  const int64_t effW = CheckedProduct(env, {s.kW - 1, s.dilationW}) + 1;
  s.padTop = GetInt(p, "padTop", 0, effH - 1);
  s.padBottom = GetInt(p, "padBottom", 0, effH - 1);
  s.padLeft = GetInt(p, "padLeft", 0, effW - 1);
  s.padRight = GetInt(p, "padRight", 0, effW - 1);
  const int64_t spanH = s.inH + s.padTop + s.padBottom - effH;
  const int64_t spanW = s.inW + s.padLeft + s.padRight - effW;
  if (spanH < 0 || spanW < 0) Fail(env, "conv2d: the filter is larger than the padded input");
  if (spanH / s.strideH + 1 != s.outH || spanW / s.strideW + 1 != s.outW) {
    Fail(env, "conv2d: outH/outW do not follow from the input size, filter, strides and pads");
  }
  CheckedProduct(env, {s.batch, s.inH, s.inW, s.inC});
  CheckedProduct(env, {s.batch, s.outH, s.outW, s.outC});
  CheckedProduct(env, {s.kH, s.kW, s.inC, s.outC});
  return s;
}

memory::desc Desc(const memory::dims& dims, tag t) { return memory::desc(dims, dt::f32, t); }

// Below this many FLOPs (a convolution of about 0.1 ms on one core) a convolution runs on one
// thread: splitting it saves microseconds, and its result then does not depend on the thread count.
// LeNet-5's convolutions at batch 128 (30–60 MFLOP) are above it: with OpenMP workers that spin
// between kernels they run 1.5–2× faster on two threads (docs/architecture.md).
constexpr double kConvParallelMinFlops = 1e7;

int ConvThreads(const ConvShape& s) { return s.Flops() < kConvParallelMinFlops ? 1 : omp_get_max_threads(); }

// The calling thread's OpenMP thread count, set for a scope and restored after it: oneDNN takes a
// primitive's threads from it when the primitive is made and when it runs.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : saved_(omp_get_max_threads()) {
    if (threads != saved_) omp_set_num_threads(threads);
  }
  ~ThreadScope() {
    if (omp_get_max_threads() != saved_) omp_set_num_threads(saved_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_;
};

struct Forward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  memory weights;  // in pd's preferred layout
  bool reorderWeights;
};

struct BackwardData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  memory weights;
  bool reorderWeights;
};

struct BackwardWeights {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  memory diffWeights;
  bool reorderWeights;
};

template <typename T>
using Cache = std::unordered_map<std::string, std::unique_ptr<T>>;

// The cache entry for key; the cache is emptied first when it grows past 128 shapes.
template <typename T>
std::unique_ptr<T>& Slot(Cache<T>& cache, const std::string& key) {
  if (cache.size() >= 128 && cache.find(key) == cache.end()) cache.clear();
  return cache[key];
}

dnnl::convolution_forward::primitive_desc ForwardDesc(const ConvShape& s, bool bias, bool relu, dnnl::prop_kind prop) {
  auto src = Desc(s.Src(), tag::nhwc);
  auto dst = Desc(s.Dst(), tag::nhwc);
  auto weights = Desc(s.Weights(), tag::any);
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  if (bias) {
    dnnl::convolution_forward::desc d(prop, dnnl::algorithm::convolution_direct, src, weights, Desc({s.outC}, tag::x), dst,
                                      s.Strides(), s.Dilates(), s.PadL(), s.PadR());
    return dnnl::convolution_forward::primitive_desc(d, attr, Engine());
  }
  dnnl::convolution_forward::desc d(prop, dnnl::algorithm::convolution_direct, src, weights, dst, s.Strides(),
                                    s.Dilates(), s.PadL(), s.PadR());
  return dnnl::convolution_forward::primitive_desc(d, attr, Engine());
}

Cache<Forward> forwardCache;
Cache<BackwardData> backwardDataCache;
Cache<BackwardWeights> backwardWeightsCache;

void Reorder(memory& from, memory& to) {
  dnnl::reorder(from, to).execute(Stream(), from, to);
}

template <typename Fn>
Napi::Value Guard(Napi::Env env, const char* name, Fn fn) {
  try {
    fn();
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(env, std::string(name) + ": oneDNN: " + e.what());
  }
  return env.Undefined();
}

// conv2d({x, filter, out, bias?, relu?, <shape>}): x [batch, inH, inW, inC], filter [kH, kW, inC, outC],
// out [batch, outH, outW, outC], bias [outC].
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "conv2d");
  F32 x = GetF32(p, "x");
  F32 filter = GetF32(p, "filter");
  F32 out = GetF32(p, "out");
  ConvShape s = ParseShape(p);
  const bool relu = GetBoolOr(p, "relu", false);
  const bool hasBias = Has(p, "bias");
  F32 bias;
  if (hasBias) {
    bias = GetF32(p, "bias");
    ExpectLength(env, bias, s.outC, "bias");
  }
  ExpectLength(env, x, s.SrcSize(), "x");
  ExpectLength(env, filter, s.WeightsSize(), "filter");
  ExpectLength(env, out, s.DstSize(), "out");
  return Guard(env, "conv2d", [&] {
    const int threads = ConvThreads(s);
    ThreadScope scope(threads);
    auto& slot = Slot(forwardCache, s.Key("f", hasBias, relu, threads));
    if (!slot) {
      auto pd = ForwardDesc(s, hasBias, relu, dnnl::prop_kind::forward_inference);
      auto user = Desc(s.Weights(), tag::hwio);
      bool reorder = pd.weights_desc() != user;
      slot = std::make_unique<Forward>(Forward{pd, dnnl::convolution_forward(pd), memory(pd.weights_desc(), Engine()),
                                               reorder});
    }
    Forward& f = *slot;
    memory srcMem(Desc(s.Src(), tag::nhwc), Engine(), x.data);
    memory dstMem(Desc(s.Dst(), tag::nhwc), Engine(), out.data);
    memory userWeights(Desc(s.Weights(), tag::hwio), Engine(), filter.data);
    if (f.reorderWeights) Reorder(userWeights, f.weights);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, srcMem},
                                         {DNNL_ARG_WEIGHTS, f.reorderWeights ? f.weights : userWeights},
                                         {DNNL_ARG_DST, dstMem}};
    if (hasBias) args.insert({DNNL_ARG_BIAS, memory(Desc({s.outC}, tag::x), Engine(), bias.data)});
    f.prim.execute(Stream(), args);
    Stream().wait();
  });
}

// conv2dBackpropInput({dy, filter, dx, <shape>}): dx [batch, inH, inW, inC].
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "conv2dBackpropInput");
  F32 dy = GetF32(p, "dy");
  F32 filter = GetF32(p, "filter");
  F32 dx = GetF32(p, "dx");
  ConvShape s = ParseShape(p);
  ExpectLength(env, dy, s.DstSize(), "dy");
  ExpectLength(env, filter, s.WeightsSize(), "filter");
  ExpectLength(env, dx, s.SrcSize(), "dx");
  return Guard(env, "conv2dBackpropInput", [&] {
    const int threads = ConvThreads(s);
    ThreadScope scope(threads);
    auto& slot = Slot(backwardDataCache, s.Key("d", false, false, threads));
    if (!slot) {
      auto hint = ForwardDesc(s, false, false, dnnl::prop_kind::forward_training);
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, Desc(s.Src(), tag::nhwc),
                                              Desc(s.Weights(), tag::any), Desc(s.Dst(), tag::nhwc), s.Strides(),
                                              s.Dilates(), s.PadL(), s.PadR());
      dnnl::convolution_backward_data::primitive_desc pd(d, Engine(), hint);
      bool reorder = pd.weights_desc() != Desc(s.Weights(), tag::hwio);
      slot = std::make_unique<BackwardData>(
          BackwardData{pd, dnnl::convolution_backward_data(pd), memory(pd.weights_desc(), Engine()), reorder});
    }
    BackwardData& b = *slot;
    memory diffDst(Desc(s.Dst(), tag::nhwc), Engine(), dy.data);
    memory diffSrc(Desc(s.Src(), tag::nhwc), Engine(), dx.data);
    memory userWeights(Desc(s.Weights(), tag::hwio), Engine(), filter.data);
    if (b.reorderWeights) Reorder(userWeights, b.weights);
    b.prim.execute(Stream(), {{DNNL_ARG_DIFF_DST, diffDst},
                              {DNNL_ARG_WEIGHTS, b.reorderWeights ? b.weights : userWeights},
                              {DNNL_ARG_DIFF_SRC, diffSrc}});
    Stream().wait();
  });
}

// conv2dBackpropFilter({x, dy, dw, <shape>}): dw [kH, kW, inC, outC].
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "conv2dBackpropFilter");
  F32 x = GetF32(p, "x");
  F32 dy = GetF32(p, "dy");
  F32 dw = GetF32(p, "dw");
  ConvShape s = ParseShape(p);
  ExpectLength(env, x, s.SrcSize(), "x");
  ExpectLength(env, dy, s.DstSize(), "dy");
  ExpectLength(env, dw, s.WeightsSize(), "dw");
  return Guard(env, "conv2dBackpropFilter", [&] {
    const int threads = ConvThreads(s);
    ThreadScope scope(threads);
    auto& slot = Slot(backwardWeightsCache, s.Key("w", false, false, threads));
    if (!slot) {
      auto hint = ForwardDesc(s, false, false, dnnl::prop_kind::forward_training);
      dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, Desc(s.Src(), tag::nhwc),
                                                 Desc(s.Weights(), tag::any), Desc(s.Dst(), tag::nhwc), s.Strides(),
                                                 s.Dilates(), s.PadL(), s.PadR());
      dnnl::convolution_backward_weights::primitive_desc pd(d, Engine(), hint);
      bool reorder = pd.diff_weights_desc() != Desc(s.Weights(), tag::hwio);
      slot = std::make_unique<BackwardWeights>(BackwardWeights{
          pd, dnnl::convolution_backward_weights(pd), memory(pd.diff_weights_desc(), Engine()), reorder});
    }
    BackwardWeights& w = *slot;
    memory src(Desc(s.Src(), tag::nhwc), Engine(), x.data);
    memory diffDst(Desc(s.Dst(), tag::nhwc), Engine(), dy.data);
    memory userWeights(Desc(s.Weights(), tag::hwio), Engine(), dw.data);
    w.prim.execute(Stream(), {{DNNL_ARG_SRC, src},
                              {DNNL_ARG_DIFF_DST, diffDst},
                              {DNNL_ARG_DIFF_WEIGHTS, w.reorderWeights ? w.diffWeights : userWeights}});
    if (w.reorderWeights) Reorder(w.diffWeights, userWeights);
    Stream().wait();
  });
}

}  // namespace

void InitConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2D));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2DBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2DBackpropFilter));
}

}  // namespace onednn_backend
