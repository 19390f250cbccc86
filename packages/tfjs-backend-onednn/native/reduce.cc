// Reductions (sum, mean, max; sum and mean of squares and of square gradients, of x or of x + shift)
// of a float32 tensor over any set of axes.
#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <vector>

#include "common.h"
#include "parallel.h"

namespace onednn_backend {
namespace {

enum class ReduceOp { kSum, kMean, kMax };

// What a reduction reads of each element: the value, or its square rounded to float (the bits a
// Square kernel's output would hold, so that reducing the squares of x equals reducing Square(x)).
// Column sums also pass the element's column in their wide row (see ColumnSums).
struct Value {
  float operator()(float v) const { return v; }
  float operator()(float v, int64_t) const { return v; }
};
struct Squared {
  float operator()(float v) const { return v * v; }
  float operator()(float v, int64_t) const { return v * v; }
};
// Loads that read per-column arrays too (see PerColumn): element k of a wide row, or the only
// element of single values when called without a column (any other reduction).

// The square of x + shift, as a Square of a subtraction's output holds it.
struct ShiftedSquared {
  const float* shift;
  float operator()(float v, int64_t column) const {
    const float t = v + shift[column];
    return t * t;
  }
  float operator()(float v) const { return (*this)(v, 0); }
};
// The gradient of a square dy·(2x) as unaryGrad computes it.
struct SquareGrads {
  const float* dy;
  float operator()(float v, int64_t column) const { return SquareGrad(dy[column], v); }
  float operator()(float v) const { return (*this)(v, 0); }
};
// The gradient of the square of x + shift.
struct ShiftedSquareGrads {
  const float* dy;
  const float* shift;
  float operator()(float v, int64_t column) const { return SquareGrad(dy[column], v + shift[column]); }
  float operator()(float v) const { return (*this)(v, 0); }
};

// Dims after dropping size-1 axes and merging neighbours of the same kind; outStride is the stride
// of a kept dim in the output and 0 for a reduced one.
struct Plan {
  std::vector<int64_t> dims, outStride;
  std::vector<bool> reduced;
};

Plan MakePlan(const std::vector<int64_t>& shape, const std::vector<bool>& isReduced) {
  Plan plan;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    if (!plan.dims.empty() && plan.reduced.back() == isReduced[i]) {
      plan.dims.back() *= shape[i];
    } else {
      plan.dims.push_back(shape[i]);
      plan.reduced.push_back(isReduced[i]);
    }
  }
  if (plan.dims.empty()) {
    plan.dims.push_back(1);
    plan.reduced.push_back(true);
  }
  plan.outStride.assign(plan.dims.size(), 0);
  int64_t stride = 1;
  for (size_t i = plan.dims.size(); i-- > 0;) {
    if (!plan.reduced[i]) {
      plan.outStride[i] = stride;
      stride *= plan.dims[i];
    }
  }
  return plan;
}

template <typename Acc, typename Combine, typename Load>
void Walk(const Plan& plan, size_t level, const float* x, int64_t outOffset, Acc* acc, Combine combine, Load load) {
  const int64_t n = plan.dims[level];
  int64_t inner = 1;
  for (size_t i = level + 1; i < plan.dims.size(); ++i) inner *= plan.dims[i];
  if (level + 1 == plan.dims.size()) {
    if (plan.reduced[level]) {
      Acc value = acc[outOffset];
      for (int64_t j = 0; j < n; ++j) value = combine(value, load(x[j]));
      acc[outOffset] = value;
    } else {
      for (int64_t j = 0; j < n; ++j) acc[outOffset + j] = combine(acc[outOffset + j], load(x[j]));
    }
    return;
  }
  for (int64_t j = 0; j < n; ++j) {
    Walk(plan, level + 1, x + j * inner, outOffset + j * plan.outStride[level], acc, combine, load);
  }
}

// The reduction of x into outSize accumulators. Large inputs split their outermost dim among the
// OpenMP threads, each with its own accumulators (allocated before the parallel region, where a
// failed allocation would end the process), merged at the end in thread order with `combine`
// itself (a sum or a max of partial results is the same operation).
template <typename Acc, typename Combine, typename Load>
std::vector<Acc> Reduced(const Plan& plan, const float* x, int64_t outSize, Acc identity, Combine combine, Load load) {
  std::vector<Acc> acc(outSize, identity);
  int64_t inner = 1;
  for (size_t i = 1; i < plan.dims.size(); ++i) inner *= plan.dims[i];
  const int64_t outer = plan.dims[0];
  if (plan.dims.size() == 1 || outer * inner < kParallelMin || omp_get_max_threads() == 1) {
    Walk(plan, 0, x, 0, acc.data(), combine, load);
    return acc;
  }
  std::vector<std::vector<Acc>> partial(omp_get_max_threads(), std::vector<Acc>(outSize, identity));
  ParallelFor(outer, outer * inner, [&](int64_t begin, int64_t end) {
    std::vector<Acc>& local = partial[omp_get_thread_num()];
    for (int64_t j = begin; j < end; ++j)
      Walk(plan, 1, x + j * inner, j * plan.outStride[0], local.data(), combine, load);
  });
  for (const std::vector<Acc>& local : partial)
    for (int64_t i = 0; i < outSize; ++i) acc[i] = combine(acc[i], local[i]);
  return acc;
}

// The width of the rows ColumnSums reads a [rows, cols] matrix as: a multiple of cols.
int64_t WideRow(int64_t cols) { return std::max<int64_t>(1, 64 / cols) * cols; }

// Column sums of a [rows, cols] matrix (a bias gradient: every axis but the last reduced). Narrow
// matrices are read as [rows / m, m * cols] (WideRow) so that the inner loop is long enough to
// vectorize; blocks of rows are summed in float, the blocks in double. load(v, k) reads the element
// in column k of the wide row.
template <typename Load>
std::vector<double> ColumnSums(const float* x, int64_t rows, int64_t cols, Load load) {
  const int64_t width = WideRow(cols);
  const int64_t m = width / cols;
  const int64_t wideRows = rows / m;
  constexpr int64_t kBlock = 256;
  // Per thread: its sums of blocks in double, and the block being summed in float; allocated
  // before the parallel region and merged in thread order after it.
  const int threads = omp_get_max_threads();
  std::vector<std::vector<double>> local(threads, std::vector<double>(width, 0.0));
  std::vector<std::vector<float>> block(threads, std::vector<float>(width));
  const int64_t blocks = (wideRows + kBlock - 1) / kBlock;
  ParallelFor(blocks, rows * cols, [&](int64_t firstBlock, int64_t lastBlock) {
    const int thread = omp_get_thread_num();
    double* sums = local[thread].data();
    float* acc = block[thread].data();
    for (int64_t begin = firstBlock * kBlock; begin < std::min(wideRows, lastBlock * kBlock); begin += kBlock) {
      std::fill(acc, acc + width, 0.0f);
      const int64_t end = std::min(wideRows, begin + kBlock);
      for (int64_t r = begin; r < end; ++r) {
        const float* row = x + r * width;
        for (int64_t k = 0; k < width; ++k) acc[k] += load(row[k], k);
      }
      for (int64_t k = 0; k < width; ++k) sums[k] += acc[k];
    }
  });
  std::vector<double> wide(width, 0.0);
  for (const std::vector<double>& sums : local)
    for (int64_t k = 0; k < width; ++k) wide[k] += sums[k];
  std::vector<double> total(cols, 0.0);
  for (int64_t k = 0; k < width; ++k) total[k % cols] += wide[k];
  for (int64_t r = wideRows * m; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) total[c] += load(x[r * cols + c], c);
  }
  return total;
}

bool IsColumns(const Plan& plan) { return plan.dims.size() == 2 && plan.reduced[0] && !plan.reduced[1]; }

// Sum or mean of load(x) over the plan's reduced dims, into out.
template <typename Load>
void SumOrMean(const Plan& plan, const float* x, float* out, int64_t outSize, double scale, Load load) {
  const auto add = [](double s, double v) { return s + v; };
  const std::vector<double> acc = IsColumns(plan) ? ColumnSums(x, plan.dims[0], plan.dims[1], load)
                                                  : Reduced<double>(plan, x, outSize, 0.0, add, load);
  for (int64_t i = 0; i < outSize; ++i) out[i] = static_cast<float>(acc[i] * scale);
}

// Per-column arrays a load reads, each repeating along x every its length: for a column reduction
// whose kept size their lengths divide, widened to ColumnSums' wide row; for any reduction, single
// values as they are. False for any other.
bool PerColumn(const Plan& plan, const std::vector<F32>& arrays, std::vector<std::vector<float>>* out) {
  for (const F32& a : arrays) {
    if (IsColumns(plan) && plan.dims[1] % a.length == 0) {
      std::vector<float>& wide = out->emplace_back(WideRow(plan.dims[1]));
      for (size_t k = 0; k < wide.size(); ++k) wide[k] = a.data[k % a.length];
    } else if (a.length == 1) {
      out->emplace_back(1, a.data[0]);
    } else {
      return false;
    }
  }
  return true;
}

// reduce(op, x, out, dims, ...perColumn): op 0 sum, 1 mean, 2 max; 3 sum and 4 mean of squares; 5
// sum and 6 mean of square gradients dy·(2x), taking dy; 7 sum and 8 mean of squares of x + shift,
// taking shift; 9 sum and 10 mean of square gradients dy·(2(x + shift)), taking dy and shift. dy and
// shift repeat along x every their length: single values, or where the kept axes are the last
// ones, lengths that divide their size. dims is an Int32Array starting [rank, count, ...shape,
// ...axes] (count axes, distinct, in [0, rank); what follows is not read); out holds the kept axes
// in order.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const Positional args(info, "reduce");
  Napi::Env env = args.Env();
  if (args.Length() < 1) args.Fail("expected op first");
  const int64_t code = args.Int(0, "op", 0, 10);
  const bool squares = code == 3 || code == 4 || code == 7 || code == 8;
  const bool squareGrads = code == 5 || code == 6 || code >= 9;
  const bool shifted = code >= 7;
  const size_t expected = 4 + (squareGrads ? 1 : 0) + (shifted ? 1 : 0);
  if (args.Length() != expected)
    args.Fail("expected " + std::to_string(expected) + " arguments for op " + std::to_string(code) + ", got " +
              std::to_string(args.Length()));
  // Sums: 0 and the odd codes from 3; means: 1 and the even codes from 4.
  const ReduceOp op = code == 2                               ? ReduceOp::kMax
                      : code == 0 || (code >= 3 && code % 2 == 1) ? ReduceOp::kSum
                                                                  : ReduceOp::kMean;
  const F32 x = args.Floats(1, "x");
  const F32 out = args.Floats(2, "out");
  const std::vector<int64_t> dims = args.Ints(3, "dims");
  if (dims.size() < 2) args.Fail("'dims' must start with the rank and the number of axes");
  const auto shape = args.Shape(dims, 2, dims[0], "shape");
  args.ExpectLength(x, CheckedProduct(env, shape), "x");
  const int64_t count = dims[1];
  if (count < 0 || count > static_cast<int64_t>(shape.size()) ||
      2 + shape.size() + static_cast<size_t>(count) > dims.size())
    args.Fail("'dims' must hold between 0 and rank axes after the shape");
  std::vector<bool> isReduced(shape.size(), false);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t axis = dims[2 + shape.size() + i];
    if (axis < 0 || axis >= static_cast<int64_t>(shape.size())) args.Fail("'axes' must hold integers in [0, rank)");
    if (isReduced[axis]) args.Fail("'axes' holds an axis twice");
    isReduced[axis] = true;
  }
  int64_t outSize = 1, reduceSize = 1;
  for (size_t i = 0; i < shape.size(); ++i) (isReduced[i] ? reduceSize : outSize) *= shape[i];
  args.ExpectLength(out, outSize, "out");
  const Plan plan = MakePlan(shape, isReduced);
  // dy, shift: the per-column arrays the op reads.
  std::vector<F32> perColumn;
  for (size_t i = 4; i < expected; ++i) {
    const char* name = squareGrads && i == 4 ? "dy" : "shift";
    const F32 a = args.Floats(i, name);
    if (a.length == 0 || x.length % a.length != 0) args.Fail("'" + std::string(name) + "' must have a length that divides x's");
    perColumn.push_back(a);
  }
  try {
    if (op == ReduceOp::kMax) {
      const float lowest = -std::numeric_limits<float>::infinity();
      const auto larger = [](float m, float v) { return (std::isnan(v) || v > m) ? v : m; };
      const std::vector<float> acc = Reduced<float>(plan, x.data, outSize, lowest, larger, Value());
      std::copy(acc.begin(), acc.end(), out.data);
    } else {
      const double scale = op == ReduceOp::kMean ? 1.0 / static_cast<double>(reduceSize) : 1.0;
      std::vector<std::vector<float>> arrays;
      if (!PerColumn(plan, perColumn, &arrays))
        args.Fail("'dy' and 'shift' must repeat along the kept axes (the last ones, their size a multiple of "
                  "the length) or be one value");
      if (squareGrads && shifted)
        SumOrMean(plan, x.data, out.data, outSize, scale, ShiftedSquareGrads{arrays[0].data(), arrays[1].data()});
      else if (squareGrads)
        SumOrMean(plan, x.data, out.data, outSize, scale, SquareGrads{arrays[0].data()});
      else if (squares && shifted)
        SumOrMean(plan, x.data, out.data, outSize, scale, ShiftedSquared{arrays[0].data()});
      else if (squares)
        SumOrMean(plan, x.data, out.data, outSize, scale, Squared());
      else
        SumOrMean(plan, x.data, out.data, outSize, scale, Value());
    }
  } catch (const std::bad_alloc&) {
    args.Fail("out of memory for the partial results of " + std::to_string(outSize) + " outputs");
  }
  return env.Undefined();
}

}  // namespace

void InitReduce(Napi::Env env, Napi::Object exports) { exports.Set("reduce", Napi::Function::New(env, Reduce)); }

}  // namespace onednn_backend
