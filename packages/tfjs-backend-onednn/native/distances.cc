// Grouped squared distances of many tensors to many references, and their gradient, one pass each.
//
// Tensor i is viewed as [replicas, rest_i, units_i] and has `references` references of that shape,
// stacked as [references, replicas, rest_i, units_i]. Its elements fall into groups of an output
// of [references, replicas, groups]: either one group per unit (group_i + u: the last axis, e.g.
// a dense column or a conv output channel) or one group for the whole tensor (group_i). Several
// tensors may share groups. Composed from tfjs ops this is a subtraction, a product and a sum per
// tensor and reference; here it is one read of every tensor and reference.
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "parallel.h"

namespace onednn_backend {
namespace {

struct Tensor {
  const float* x = nullptr;
  const float* refs = nullptr;
  float* dx = nullptr;
  int64_t rest = 0;
  int64_t units = 0;
  int64_t group = 0;
  bool perUnit = false;
};

struct Layout {
  std::vector<Tensor> tensors;
  int64_t replicas = 0;
  int64_t references = 0;
  int64_t groups = 0;
  // rowStart[i]: the first of tensor i's rows in the flat list of rows (tensor, replica, rest index).
  std::vector<int64_t> rowStart;
  int64_t elements = 0;
};

// Reads and checks {tensors: [{x, refs, rest, units, group, perUnit[, dx]}], replicas, references, groups}.
Layout GetLayout(Napi::Object p, bool withGrad) {
  Napi::Env env = p.Env();
  Layout layout;
  layout.replicas = GetInt(p, "replicas", 1, kMaxDim);
  layout.references = GetInt(p, "references", 1, kMaxDim);
  layout.groups = GetInt(p, "groups", 1, kMaxDim);
  Napi::Value list = p.Get("tensors");
  if (!list.IsArray()) Fail(env, "'tensors' must be an array of tensor descriptions");
  auto array = list.As<Napi::Array>();
  if (array.Length() == 0) Fail(env, "'tensors' must not be empty");
  int64_t rows = 0;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsObject() || item.IsArray() || item.IsTypedArray()) Fail(env, "each of 'tensors' must be an object");
    Napi::Object t = item.As<Napi::Object>();
    Tensor tensor;
    tensor.rest = GetInt(t, "rest", 1, kMaxDim);
    tensor.units = GetInt(t, "units", 1, kMaxDim);
    tensor.group = GetInt(t, "group", 0, layout.groups - 1);
    tensor.perUnit = GetBoolOr(t, "perUnit", false);
    if (tensor.perUnit && tensor.group + tensor.units > layout.groups)
      Fail(env, "tensor " + std::to_string(i) + ": groups " + std::to_string(tensor.group) + " + units exceed 'groups'");
    const int64_t size = CheckedProduct(env, {layout.replicas, tensor.rest, tensor.units});
    F32 x = GetF32(t, "x");
    F32 refs = GetF32(t, "refs");
    ExpectLength(env, x, size, "x");
    ExpectLength(env, refs, CheckedProduct(env, {layout.references, size}), "refs");
    tensor.x = x.data;
    tensor.refs = refs.data;
    if (withGrad) {
      F32 dx = GetF32(t, "dx");
      ExpectLength(env, dx, size, "dx");
      tensor.dx = dx.data;
    }
    layout.rowStart.push_back(rows);
    rows += layout.replicas * tensor.rest;
    layout.elements += size * layout.references;
    layout.tensors.push_back(tensor);
  }
  layout.rowStart.push_back(rows);
  return layout;
}

// Calls fn(tensor, replica, restIndex) for rows [begin, end) of the flat row list.
template <typename Fn>
void ForRows(const Layout& layout, int64_t begin, int64_t end, Fn fn) {
  size_t i = 0;
  while (layout.rowStart[i + 1] <= begin) ++i;
  for (int64_t row = begin; row < end; ++row) {
    while (layout.rowStart[i + 1] <= row) ++i;
    const int64_t local = row - layout.rowStart[i];
    const Tensor& t = layout.tensors[i];
    fn(t, local / t.rest, local % t.rest);
  }
}

// groupedSquaredDistances({tensors, replicas, references, groups, out}): out[j, r, g] is the sum of
// (x − ref_j)² over the elements of replica r in group g.
Napi::Value GroupedSquaredDistances(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "groupedSquaredDistances");
  Layout layout = GetLayout(p, false);
  F32 out = GetF32(p, "out");
  const int64_t R = layout.replicas;
  const int64_t J = layout.references;
  const int64_t G = layout.groups;
  ExpectLength(env, out, CheckedProduct(env, {J, R, G}), "out");
  const int64_t rows = layout.rowStart.back();
  const int threads = omp_get_max_threads();
  // One accumulator per thread, in double: groups can hold millions of elements.
  std::vector<std::vector<double>> partial(threads);
  ParallelFor(rows, layout.elements, [&](int64_t begin, int64_t end) {
    std::vector<double>& acc = partial[omp_get_thread_num()];
    acc.assign(J * R * G, 0.0);
    std::vector<double> sums;
    ForRows(layout, begin, end, [&](const Tensor& t, int64_t r, int64_t k) {
      const int64_t units = t.units;
      const float* x = t.x + (r * t.rest + k) * units;
      for (int64_t j = 0; j < J; ++j) {
        const float* ref = t.refs + ((j * R + r) * t.rest + k) * units;
        double* a = acc.data() + (j * R + r) * G + t.group;
        if (t.perUnit) {
#pragma omp simd
          for (int64_t u = 0; u < units; ++u) {
            const double d = static_cast<double>(x[u]) - static_cast<double>(ref[u]);
            a[u] += d * d;
          }
        } else {
          double s = 0.0;
#pragma omp simd reduction(+ : s)
          for (int64_t u = 0; u < units; ++u) {
            const double d = static_cast<double>(x[u]) - static_cast<double>(ref[u]);
            s += d * d;
          }
          a[0] += s;
        }
      }
    });
  });
  for (int64_t g = 0; g < J * R * G; ++g) {
    double total = 0.0;
    for (const auto& acc : partial)
      if (!acc.empty()) total += acc[g];
    out.data[g] = static_cast<float>(total);
  }
  return env.Undefined();
}

// groupedSquaredDistancesGrad({tensors (with dx), replicas, references, groups, dy}):
// dx[r, k, u] = 2 Σ_j dy[j, r, group of u] · (x[r, k, u] − ref_j[r, k, u]).
Napi::Value GroupedSquaredDistancesGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "groupedSquaredDistancesGrad");
  Layout layout = GetLayout(p, true);
  F32 dy = GetF32(p, "dy");
  const int64_t R = layout.replicas;
  const int64_t J = layout.references;
  const int64_t G = layout.groups;
  ExpectLength(env, dy, CheckedProduct(env, {J, R, G}), "dy");
  ParallelFor(layout.rowStart.back(), layout.elements, [&](int64_t begin, int64_t end) {
    ForRows(layout, begin, end, [&](const Tensor& t, int64_t r, int64_t k) {
      const int64_t units = t.units;
      const int64_t offset = (r * t.rest + k) * units;
      const float* x = t.x + offset;
      float* dx = t.dx + offset;
      for (int64_t j = 0; j < J; ++j) {
        const float* ref = t.refs + ((j * R + r) * t.rest + k) * units;
        const float* w = dy.data + (j * R + r) * G + t.group;
        const bool first = j == 0;
        if (t.perUnit) {
#pragma omp simd
          for (int64_t u = 0; u < units; ++u) {
            const float g = 2.0f * w[u] * (x[u] - ref[u]);
            dx[u] = first ? g : dx[u] + g;
          }
        } else {
          const float w2 = 2.0f * w[0];
#pragma omp simd
          for (int64_t u = 0; u < units; ++u) {
            const float g = w2 * (x[u] - ref[u]);
            dx[u] = first ? g : dx[u] + g;
          }
        }
      }
    });
  });
  return env.Undefined();
}

}  // namespace

void InitDistances(Napi::Env env, Napi::Object exports) {
  exports.Set("groupedSquaredDistances", Napi::Function::New(env, GroupedSquaredDistances));
  exports.Set("groupedSquaredDistancesGrad", Napi::Function::New(env, GroupedSquaredDistancesGrad));
}

}  // namespace onednn_backend
