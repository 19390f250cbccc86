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

// Argument `index` ('list[i]') as a Float32Array; the message is built only on failure (this runs
// for every tensor of every call).
F32 TensorArgument(const Positional& args, size_t index, const char* list, uint32_t i) {
  F32 out;
  if (!ToF32(args[index], &out))
    args.Fail("argument " + std::to_string(index) + " ('" + list + "[" + std::to_string(i) +
              "]') must be a Float32Array");
  return out;
}

// Reads and checks the arguments of both entry points, positional: `layout`, an Int32Array of
// replicas, references, groups, then per tensor rest, units, group and perUnit (0 or 1); the
// Float32Array `dataName` (`out` or `dy`) into *data; then one Float32Array per tensor for each of
// x, refs and, for the gradient, dx and optionally base (n each, in that order). Arguments, not
// arrays in a parameter object: node-addon-api reads them all at once, where every array element
// would cost a Node-API call (this kernel runs every training step). Nothing here runs JavaScript,
// so no getter can detach a buffer whose address the call holds.
Layout GetLayout(const Positional& args, bool withGrad, const char* dataName, F32* data) {
  if (args.Length() < 1) args.Fail("expected 'layout' first");
  const std::vector<int64_t> l = args.Ints(0, "layout");
  const size_t length = l.size();
  if (length < 7 || (length - 3) % 4 != 0)
    args.Fail("'layout' must hold replicas, references, groups and 4 numbers per tensor (at least one)");
  const uint32_t n = static_cast<uint32_t>((length - 3) / 4);
  const size_t lists = args.Length() >= 2 && (args.Length() - 2) % n == 0 ? (args.Length() - 2) / n : 0;
  const bool countOk = withGrad ? lists == 3 || lists == 4 : lists == 2;
  if (!countOk)
    args.Fail("expected layout, " + std::string(dataName) + " and " + (withGrad ? "3 or 4" : "2") + " × " +
              std::to_string(n) + " tensors (" + (withGrad ? "x, refs, dx[, base]" : "x, refs") +
              " for the tensors 'layout' describes), got " + std::to_string(args.Length()) + " arguments");
  *data = args.Floats(1, dataName);
  auto list = [&](size_t part, const char* name) {
    std::vector<F32> arrays;
    arrays.reserve(n);
    for (uint32_t i = 0; i < n; ++i) arrays.push_back(TensorArgument(args, 2 + part * n + i, name, i));
    return arrays;
  };
  const std::vector<F32> xs = list(0, "x");
  const std::vector<F32> refs = list(1, "refs");
  const std::vector<F32> dxs = withGrad ? list(2, "dx") : std::vector<F32>();
  const std::vector<F32> bases = withGrad && lists == 4 ? list(3, "base") : std::vector<F32>();
  Napi::Env env = args.Env();
  Layout layout;
  // tensor < 0: a header field. The message is built only on failure.
  auto check = [&](int64_t value, int64_t min, int64_t max, int64_t tensor, const char* field) -> int64_t {
    if (value < min || value > max)
      args.Fail((tensor < 0 ? std::string() : "tensor " + std::to_string(tensor) + ": ") + "'" + field +
                "' must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                std::to_string(value));
    return value;
  };
  layout.replicas = check(l[0], 1, kMaxDim, -1, "replicas");
  layout.references = check(l[1], 1, kMaxDim, -1, "references");
  layout.groups = check(l[2], 1, kMaxDim, -1, "groups");
  int64_t rows = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const int64_t* t = l.data() + 3 + 4 * i;
    Tensor tensor;
    tensor.rest = check(t[0], 1, kMaxDim, i, "rest");
    tensor.units = check(t[1], 1, kMaxDim, i, "units");
    tensor.group = check(t[2], 0, layout.groups - 1, i, "group");
    tensor.perUnit = check(t[3], 0, 1, i, "perUnit") == 1;
    if (tensor.perUnit && tensor.group + tensor.units > layout.groups)
      args.Fail("tensor " + std::to_string(i) + ": groups " + std::to_string(tensor.group) +
                " + units exceed 'groups'");
    const int64_t size = CheckedProduct(env, {layout.replicas, tensor.rest, tensor.units});
    auto expect = [&](const F32& buffer, int64_t expected, const char* what) {
      if (buffer.length != expected)
        args.Fail("tensor " + std::to_string(i) + ": '" + what + "' has " + std::to_string(buffer.length) +
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

// groupedSquaredDistances(layout, out, x_0 … x_{n−1}, refs_0 … refs_{n−1}): out[j, r, g] is the sum of
// (x − ref_j)² over the elements of replica r in group g.
Napi::Value GroupedSquaredDistances(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Positional args(info, "groupedSquaredDistances");
  F32 out;
  Layout layout = GetLayout(args, false, "out", &out);
  const int64_t R = layout.replicas;
  const int64_t J = layout.references;
  const int64_t G = layout.groups;
  args.ExpectLength(out, CheckedProduct(env, {J, R, G}), "out");
  const int64_t rows = layout.rowStart.back();
  const int threads = omp_get_max_threads();
  // One accumulator per thread, in double: groups can hold millions of elements.
  // Allocated here, not in the parallel region, where a failed allocation would end the process.
  std::vector<std::vector<double>> partial(threads);
  try {
    for (auto& acc : partial) acc.assign(J * R * G, 0.0);
  } catch (const std::bad_alloc&) {
    args.Fail("out of memory for " + std::to_string(threads) + " × " + std::to_string(J * R * G) + " partial sums");
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

// groupedSquaredDistancesGrad(layout, dy, x_0 …, refs_0 …, dx_0 …[, base_0 …]):
// dx[r, k, u] = [base[r, k, u] +] 2 Σ_j dy[j, r, group of u] · (x[r, k, u] − ref_j[r, k, u]).
Napi::Value GroupedSquaredDistancesGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Positional args(info, "groupedSquaredDistancesGrad");
  F32 dy;
  Layout layout = GetLayout(args, true, "dy", &dy);
  const int64_t R = layout.replicas;
  const int64_t J = layout.references;
  const int64_t G = layout.groups;
  args.ExpectLength(dy, CheckedProduct(env, {J, R, G}), "dy");
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
