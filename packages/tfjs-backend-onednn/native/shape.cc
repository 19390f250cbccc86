// Tile, slice and constant padding on float32 buffers, all expressed as one strided copy.
#include <algorithm>
#include <cstring>

#include "common.h"

namespace onednn_backend {
namespace {

// A copy of a dims-shaped box: element (i0, i1, ...) goes from src[sum i*srcStride] to dst[sum i*dstStride].
struct Box {
  std::vector<int64_t> dims, src, dst;
};

// Drops unit dims and merges neighbours that are contiguous in both source and destination.
Box Simplify(const Box& in) {
  Box out;
  for (size_t i = 0; i < in.dims.size(); ++i) {
    const int64_t d = in.dims[i];
    if (d == 1) continue;
    if (!out.dims.empty() && out.src.back() == in.src[i] * d && out.dst.back() == in.dst[i] * d) {
      out.dims.back() *= d;
      out.src.back() = in.src[i];
      out.dst.back() = in.dst[i];
      continue;
    }
    out.dims.push_back(d);
    out.src.push_back(in.src[i]);
    out.dst.push_back(in.dst[i]);
  }
  if (out.dims.empty()) {
    out.dims.push_back(1);
    out.src.push_back(1);
    out.dst.push_back(1);
  }
  return out;
}

void StridedCopy(const Box& box, const float* src, float* dst) {
  const Box b = Simplify(box);
  const size_t rank = b.dims.size();
  const int64_t n = b.dims[rank - 1];
  const int64_t ss = b.src[rank - 1];
  const int64_t ds = b.dst[rank - 1];
  int64_t outer = 1;
  for (size_t i = 0; i + 1 < rank; ++i) outer *= b.dims[i];
  std::vector<int64_t> counter(rank, 0);
  int64_t offSrc = 0, offDst = 0;
  for (int64_t row = 0; row < outer; ++row) {
    const float* s = src + offSrc;
    float* d = dst + offDst;
    if (ss == 1 && ds == 1) {
      std::memcpy(d, s, static_cast<size_t>(n) * sizeof(float));
    } else if (ss == 0 && ds == 1) {
      std::fill(d, d + n, s[0]);
    } else {
      for (int64_t j = 0; j < n; ++j) d[j * ds] = s[j * ss];
    }
    for (size_t k = rank - 1; k-- > 0;) {
      offSrc += b.src[k];
      offDst += b.dst[k];
      if (++counter[k] < b.dims[k]) break;
      offSrc -= b.src[k] * b.dims[k];
      offDst -= b.dst[k] * b.dims[k];
      counter[k] = 0;
    }
  }
}

std::vector<int64_t> RowMajorStrides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

// An array of exactly `length` integers in [min, max].
std::vector<int64_t> GetIntArray(Napi::Object params, const char* name, size_t length, int64_t min, int64_t max) {
  Napi::Env env = params.Env();
  Napi::Value value = params.Get(name);
  if (!value.IsArray()) Fail(env, std::string("'") + name + "' must be an array of integers");
  auto array = value.As<Napi::Array>();
  if (array.Length() != length) {
    Fail(env, std::string("'") + name + "' must have " + std::to_string(length) + " entries");
  }
  std::vector<int64_t> out(length);
  for (uint32_t i = 0; i < length; ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber()) Fail(env, std::string("'") + name + "' must hold numbers");
    double d = item.As<Napi::Number>().DoubleValue();
    if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) ||
        d != static_cast<double>(static_cast<int64_t>(d))) {
      Fail(env, std::string("'") + name + "' must hold integers in [" + std::to_string(min) + ", " +
                    std::to_string(max) + "]");
    }
    out[i] = static_cast<int64_t>(d);
  }
  return out;
}

// tile(x, out, dims): dims is an Int32Array starting [rank, ...shape, ...reps] (what follows is not
// read); out has shape[i] * reps[i] along each axis.
Napi::Value Tile(const Napi::CallbackInfo& info) {
  const Positional args(info, "tile", 3);
  Napi::Env env = args.Env();
  const F32 x = args.Floats(0, "x");
  const F32 out = args.Floats(1, "out");
  const std::vector<int64_t> dims = args.Ints(2, "dims");
  if (dims.empty()) args.Fail("'dims' must start with the rank");
  const auto shape = args.Shape(dims, 1, dims[0], "shape");
  const auto reps = args.Shape(dims, 1 + shape.size(), dims[0], "reps");
  args.ExpectLength(x, CheckedProduct(env, shape), "x");
  // The output viewed as [reps0, shape0, reps1, shape1, ...] is contiguous; the reps axes read with stride 0.
  Box box;
  std::vector<int64_t> outDims;
  const auto strides = RowMajorStrides(shape);
  for (size_t i = 0; i < shape.size(); ++i) {
    outDims.push_back(reps[i]);
    outDims.push_back(shape[i]);
    box.dims.push_back(reps[i]);
    box.src.push_back(0);
    box.dims.push_back(shape[i]);
    box.src.push_back(strides[i]);
  }
  ExpectLength(env, out, CheckedProduct(env, outDims), "out");
  box.dst = RowMajorStrides(box.dims);
  StridedCopy(box, x.data, out.data);
  return env.Undefined();
}

// slice({x, shape, begin, size, out}): out is the size-shaped box of x starting at begin.
Napi::Value Slice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "slice");
  F32 x = GetF32(p, "x");
  F32 out = GetF32(p, "out");
  const auto shape = GetShape(p, "shape");
  const auto begin = GetIntArray(p, "begin", shape.size(), 0, kMaxDim);
  const auto size = GetIntArray(p, "size", shape.size(), 1, kMaxDim);
  ExpectLength(env, x, CheckedProduct(env, shape), "x");
  for (size_t i = 0; i < shape.size(); ++i) {
    if (begin[i] + size[i] > shape[i]) Fail(env, "slice: begin + size exceeds the shape on axis " + std::to_string(i));
  }
  ExpectLength(env, out, CheckedProduct(env, size), "out");
  const auto strides = RowMajorStrides(shape);
  int64_t offset = 0;
  for (size_t i = 0; i < shape.size(); ++i) offset += begin[i] * strides[i];
  Box box{size, strides, RowMajorStrides(size)};
  StridedCopy(box, x.data + offset, out.data);
  return env.Undefined();
}

// pad({x, shape, paddings: [before0, after0, ...], value, out}): x surrounded by value.
Napi::Value Pad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = ParamsObject(info, "pad");
  F32 x = GetF32(p, "x");
  F32 out = GetF32(p, "out");
  const auto shape = GetShape(p, "shape");
  const auto paddings = GetIntArray(p, "paddings", 2 * shape.size(), 0, kMaxDim);
  if (!p.Get("value").IsNumber()) Fail(env, "'value' must be a number");
  const float value = static_cast<float>(p.Get("value").As<Napi::Number>().DoubleValue());
  ExpectLength(env, x, CheckedProduct(env, shape), "x");
  std::vector<int64_t> outShape(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) outShape[i] = shape[i] + paddings[2 * i] + paddings[2 * i + 1];
  ExpectLength(env, out, CheckedProduct(env, outShape), "out");
  std::fill(out.data, out.data + out.length, value);
  const auto outStrides = RowMajorStrides(outShape);
  int64_t offset = 0;
  for (size_t i = 0; i < shape.size(); ++i) offset += paddings[2 * i] * outStrides[i];
  Box box{shape, RowMajorStrides(shape), outStrides};
  StridedCopy(box, x.data, out.data + offset);
  return env.Undefined();
}

}  // namespace

void InitShape(Napi::Env env, Napi::Object exports) {
  exports.Set("tile", Napi::Function::New(env, Tile));
  exports.Set("slice", Napi::Function::New(env, Slice));
  exports.Set("pad", Napi::Function::New(env, Pad));
}

}  // namespace onednn_backend
