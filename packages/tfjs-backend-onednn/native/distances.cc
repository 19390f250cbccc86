// Grouped squared distances of many tensors to many references, and their gradient, one pass each.
//
// Tensor i is viewed as [replicas, rest_i, units_i] and has `references` references of that shape,
// stacked as [references, replicas, rest_i, units_i]. Its elements fall into groups of an output
// of [references, replicas, groups]: either one group per unit (group_i + u: the last axis, e.g.
// a dense column or a conv output channel) or one group for the whole tensor (group_i). Several
// tensors may share groups. Composed from tfjs ops this is a subtraction, a product and a sum per
// tensor and reference; here it is one read of every tensor and reference.
#include <cstring>
#include <new>
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
  // With the gradient: a tensor of x's shape that dx is added to (e.g. another loss term's gradient).
  const float* base = nullptr;
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

// The items of p[name], an array of `count` values. Every value of a call is read before any
// buffer's address is taken: a getter that a read runs could otherwise detach a buffer in hand.
std::vector<Napi::Value> GetItems(Napi::Object p, const char* name, uint32_t count) {
  Napi::Env env = p.Env();
  Napi::Value value = p.Get(name);
  if (!value.IsArray()) Fail(env, std::string("'") + name + "' must be an array of Float32Arrays");
  auto array = value.As<Napi::Array>();
  if (array.Length() != count)
    Fail(env, std::string("'") + name + "' has " + std::to_string(array.Length()) + " arrays, 'layout' describes " +
                  std::to_string(count));
  std::vector<Napi::Value> items(count);
  for (uint32_t i = 0; i < count; ++i) items[i] = array.Get(i);
  return items;
}

// p[name] (index < 0) or p[name][index] as a Float32Array. Messages are built only on failure:
// this runs for every tensor of every call.
F32 AsF32(Napi::Env env, Napi::Value value, const char* name, int64_t index = -1) {
  F32 out;
  if (!ToF32(value, &out))
    Fail(env, std::string("'") + name + "'" + (index < 0 ? "" : "[" + std::to_string(index) + "]") +
                  " must be a Float32Array");
  return out;
}

std::vector<F32> AsF32List(Napi::Env env, const std::vector<Napi::Value>& items, const char* name) {
  std::vector<F32> list;
  list.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i)
    list.push_back(AsF32(env, items[i], name, static_cast<int64_t>(i)));
  return list;
}

// Reads and checks {layout, x, refs} and, for the gradient, {dx[, base]}, and the Float32Array
// p[dataName] (`out` or `dy`) into *data. `layout` is an Int32Array: replicas, references, groups,
// then per tensor rest, units, group, perUnit (0 or 1); x, refs, dx and base are arrays of one
// Float32Array per tensor. Arrays and indices rather than an object per tensor: the call reads a
// few properties however many tensors it has (this kernel runs every training step).
Layout GetLayout(Napi::Object p, bool withGrad, const char* dataName, F32* data) {
  Napi::Env env = p.Env();
  Napi::Value layoutValue = p.Get("layout");
  if (!layoutValue.IsTypedArray() || layoutValue.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    Fail(env, "'layout' must be an Int32Array");
  auto numbers = layoutValue.As<Napi::Int32Array>();
  const size_t length = numbers.ElementLength();
  if (length < 7 || (length - 3) % 4 != 0)
    Fail(env, "'layout' must hold replicas, references, groups and 4 numbers per tensor (at least one)");
  const uint32_t n = static_cast<uint32_t>((length - 3) / 4);
  const std::vector<Napi::Value> xItems = GetItems(p, "x", n);
  const std::vector<Napi::Value> refItems = GetItems(p, "refs", n);
  std::vector<Napi::Value> dxItems;
  std::vector<Napi::Value> baseItems;
  if (withGrad) {
    dxItems = GetItems(p, "dx", n);
    if (Has(p, "base")) baseItems = GetItems(p, "base", n);
  }
  Napi::Value dataValue = p.Get(dataName);
  // From here on no JavaScript runs: the addresses taken below stay valid for the whole call.
  if (numbers.ElementLength() != length) Fail(env, "'layout' changed size while the call read its arguments");
  const std::vector<int32_t> l(numbers.Data(), numbers.Data() + length);
  *data = AsF32(env, dataValue, dataName);
  const std::vector<F32> xs = AsF32List(env, xItems, "x");
  const std::vector<F32> refs = AsF32List(env, refItems, "refs");
  const std::vector<F32> dxs = AsF32List(env, dxItems, "dx");
  const std::vector<F32> bases = AsF32List(env, baseItems, "base");
  Layout layout;
  // tensor < 0: a header field. The message is built only on failure.
  auto check = [&](int32_t value, int64_t min, int64_t max, int64_t tensor, const char* field) -> int64_t {
    if (value < min || value > max)
      Fail(env, (tensor < 0 ? std::string() : "tensor " + std::to_string(tensor) + ": ") + "'" + field +
                    "' must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                    std::to_string(value));
    return value;
  };
  layout.replicas = check(l[0], 1, kMaxDim, -1, "replicas");
  layout.references = check(l[1], 1, kMaxDim, -1, "references");
  layout.groups = check(l[2], 1, kMaxDim, -1, "groups");
  int64_t rows = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const int32_t* t = l.data() + 3 + 4 * i;
    Tensor tensor;
    tensor.rest = check(t[0], 1, kMaxDim, i, "rest");
    tensor.units = check(t[1], 1, kMaxDim, i, "units");
    tensor.group = check(t[2], 0, layout.groups - 1, i, "group");
    tensor.perUnit = check(t[3], 0, 1, i, "perUnit") == 1;
    if (tensor.perUnit && tensor.group + tensor.units > layout.groups)
      Fail(env,
           "tensor " + std::to_string(i) + ": groups " + std::to_string(tensor.group) + " + units exceed 'groups'");
    const int64_t size = CheckedProduct(env, {layout.replicas, tensor.rest, tensor.units});
    auto expect = [&](const F32& buffer, int64_t expected, const char* what) {
      if (buffer.length != expected)
        Fail(env, "tensor " + std::to_string(i) + ": '" + what + "' has " + std::to_string(buffer.length) +
                      " elements, expected " + std::to_string(expected));
    };
    expect(xs[i], size, "x");
    expect(refs[i], CheckedProduct(env, {layout.references, size}), "refs");
    tensor.x = xs[i].data;
    tensor.refs = refs[i].data;
    if (withGrad) {
      expect(dxs[i], size, "dx");
      tensor.dx = dxs[i].data;
      if (!bases.empty()) {
        expect(bases[i], size, "base");
        tensor.base = bases[i].data;
      }
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

// groupedSquaredDistances({layout, x, refs, out}): out[j, r, g] is the sum of
// (x − ref_j)² over the elements of replica r in group g.
Napi::Value GroupedSquaredDistances(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "groupedSquaredDistances");
  F32 out;
  Layout layout = GetLayout(p, false, "out", &out);
  const int64_t R = layout.replicas;
  const int64_t J = layout.references;
  const int64_t G = layout.groups;
  ExpectLength(env, out, CheckedProduct(env, {J, R, G}), "out");
  const int64_t rows = layout.rowStart.back();
  const int threads = omp_get_max_threads();
  // One accumulator per thread, in double: groups can hold millions of elements.
  // Allocated here, not in the parallel region, where a failed allocation would end the process.
  std::vector<std::vector<double>> partial(threads);
  try {
    for (auto& acc : partial) acc.assign(J * R * G, 0.0);
  } catch (const std::bad_alloc&) {
    Fail(env, "groupedSquaredDistances: out of memory for " + std::to_string(threads) + " × " +
                  std::to_string(J * R * G) + " partial sums");
  }
  ParallelFor(rows, layout.elements, [&](int64_t begin, int64_t end) {
    std::vector<double>& acc = partial[omp_get_thread_num()];
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

// groupedSquaredDistancesGrad({layout, x, refs, dx[, base], dy}):
// dx[r, k, u] = [base[r, k, u] +] 2 Σ_j dy[j, r, group of u] · (x[r, k, u] − ref_j[r, k, u]).
Napi::Value GroupedSquaredDistancesGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "groupedSquaredDistancesGrad");
  F32 dy;
  Layout layout = GetLayout(p, true, "dy", &dy);
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
      // The sum over references first, then the base: the same rounding as adding two tensors after.
      if (t.base != nullptr) {
        const float* base = t.base + offset;
#pragma omp simd
        for (int64_t u = 0; u < units; ++u) dx[u] = base[u] + dx[u];
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
