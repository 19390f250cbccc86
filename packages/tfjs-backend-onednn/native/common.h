// Argument parsing and validation shared by every native entry point.
// An entry point takes one plain object, or positional arguments (see Positional); anything
// missing, mistyped or inconsistent becomes a JS exception before a single element is read or written.
#pragma once

#include <napi.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace onednn_backend {

constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();
constexpr int kMaxRank = 8;

struct F32 {
  float* data = nullptr;
  int64_t length = 0;
};

[[noreturn]] inline void Fail(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

// The arithmetic several kernels share, so that a fused kernel has the bits of the kernels it
// replaces: relu as the Relu kernel computes it (NaN and −0 kept); the factor of Relu's gradient
// (1 for x > 0, 0 otherwise, NaN for NaN; the same from relu's input or output); the gradient of a
// square dy·(2x) as tfjs's Square gradient computes it.
inline float Relu(float v) { return v < 0.0f ? 0.0f : v; }
inline float ReluStep(float x) { return x != x ? x : (x > 0.0f ? 1.0f : 0.0f); }
inline float SquareGrad(float dy, float x) { return dy * (x * 2.0f); }

inline Napi::Object ParamsObject(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() != 1 || !info[0].IsObject() || info[0].IsArray() || info[0].IsTypedArray()) {
    Fail(info.Env(), std::string(fn) + ": expected a single parameter object");
  }
  return info[0].As<Napi::Object>();
}

// value as a Float32Array, in one Node-API call (node-addon-api's IsTypedArray, TypedArrayType and
// As<Float32Array> make three, a measurable share of a call on small tensors); false if it is not one.
inline bool ToF32(Napi::Value value, F32* out) {
  if (value.IsEmpty()) return false;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(value.Env(), value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float32_array)
    return false;
  out->data = static_cast<float*>(data);
  out->length = static_cast<int64_t>(length);
  return true;
}

inline F32 GetF32(Napi::Object params, const char* name) {
  F32 out;
  if (!ToF32(params.Get(name), &out)) Fail(params.Env(), std::string("'") + name + "' must be a Float32Array");
  return out;
}

inline bool Has(Napi::Object params, const char* name) {
  Napi::Value value = params.Get(name);
  return !value.IsUndefined() && !value.IsNull();
}

inline int64_t GetInt(Napi::Object params, const char* name, int64_t min, int64_t max) {
  Napi::Env env = params.Env();
  Napi::Value value = params.Get(name);
  if (!value.IsNumber()) Fail(env, std::string("'") + name + "' must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || d != static_cast<double>(static_cast<int64_t>(d))) {
    Fail(env, std::string("'") + name + "' must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                  "]");
  }
  return static_cast<int64_t>(d);
}

inline int64_t GetIntOr(Napi::Object params, const char* name, int64_t min, int64_t max, int64_t fallback) {
  return Has(params, name) ? GetInt(params, name, min, max) : fallback;
}

inline double GetNumberOr(Napi::Object params, const char* name, double fallback) {
  if (!Has(params, name)) return fallback;
  Napi::Value value = params.Get(name);
  if (!value.IsNumber()) Fail(params.Env(), std::string("'") + name + "' must be a number");
  return value.As<Napi::Number>().DoubleValue();
}

inline bool GetBoolOr(Napi::Object params, const char* name, bool fallback) {
  if (!Has(params, name)) return fallback;
  Napi::Value value = params.Get(name);
  if (!value.IsBoolean()) Fail(params.Env(), std::string("'") + name + "' must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

inline std::string GetString(Napi::Object params, const char* name) {
  Napi::Value value = params.Get(name);
  if (!value.IsString()) Fail(params.Env(), std::string("'") + name + "' must be a string");
  return value.As<Napi::String>().Utf8Value();
}

// Multiplies sizes, refusing overflow past 2^62.
inline int64_t CheckedProduct(Napi::Env env, const std::vector<int64_t>& dims) {
  int64_t product = 1;
  for (int64_t d : dims) {
    if (d < 0) Fail(env, "negative size");
    if (d != 0 && product > (int64_t{1} << 62) / d) Fail(env, "size product overflows");
    product *= d;
  }
  return product;
}

// A shape: an array of integers in [1, 2^31-1] with rank <= kMaxRank.
inline std::vector<int64_t> GetShape(Napi::Object params, const char* name) {
  Napi::Env env = params.Env();
  Napi::Value value = params.Get(name);
  if (!value.IsArray()) Fail(env, std::string("'") + name + "' must be an array of sizes");
  auto array = value.As<Napi::Array>();
  uint32_t rank = array.Length();
  if (rank > kMaxRank) Fail(env, std::string("'") + name + "' has rank above 8");
  std::vector<int64_t> shape(rank);
  for (uint32_t i = 0; i < rank; ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber()) Fail(env, std::string("'") + name + "' must hold numbers");
    double d = item.As<Napi::Number>().DoubleValue();
    if (!(d >= 1 && d <= static_cast<double>(kMaxDim)) || d != static_cast<double>(static_cast<int64_t>(d))) {
      Fail(env, std::string("'") + name + "' must hold integers in [1, 2^31-1]");
    }
    shape[i] = static_cast<int64_t>(d);
  }
  return shape;
}

// Positional arguments, for the entry points a training step calls dozens of times (matMul,
// binary, unary, unaryGrad, reduce, tile). node-addon-api reads them all with one
// napi_get_cb_info, where a parameter object costs a property lookup per field and a Node-API call
// per element of every shape array (a whole 16-element binary call: 1.0–1.2 µs that way, 0.33–0.42
// µs this way). Sizes and flags come as the leading values of one Int32Array. Nothing here runs
// JavaScript, so no getter can detach a buffer whose address a call holds. Messages are built only
// on failure.
class Positional {
 public:
  Positional(const Napi::CallbackInfo& info, const char* fn, size_t count) : info_(info), fn_(fn) {
    if (info.Length() != count)
      onednn_backend::Fail(info.Env(), std::string(fn) + ": expected " + std::to_string(count) + " arguments, got " +
                           std::to_string(info.Length()));
  }

  // For an entry point whose argument count follows from its leading arguments (it checks the count itself).
  Positional(const Napi::CallbackInfo& info, const char* fn) : info_(info), fn_(fn) {}

  Napi::Env Env() const { return info_.Env(); }
  size_t Length() const { return info_.Length(); }
  Napi::Value operator[](size_t i) const { return info_[i]; }

  [[noreturn]] void Fail(const std::string& message) const {
    onednn_backend::Fail(info_.Env(), std::string(fn_) + ": " + message);
  }

  F32 Floats(size_t i, const char* name) const {
    F32 out;
    if (!ToF32(info_[i], &out)) Fail(Describe(i, name) + " must be a Float32Array");
    return out;
  }

  // A Float32Array, or undefined / null for none.
  std::optional<F32> FloatsOrNone(size_t i, const char* name) const {
    if (info_[i].IsUndefined() || info_[i].IsNull()) return std::nullopt;
    return Floats(i, name);
  }

  // An Int32Array's values.
  std::vector<int64_t> Ints(size_t i, const char* name) const {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(info_.Env(), info_[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_int32_array)
      Fail(Describe(i, name) + " must be an Int32Array");
    const int32_t* values = static_cast<const int32_t*>(data);
    return std::vector<int64_t>(values, values + length);
  }

  // An integer-valued number in [min, max].
  int64_t Int(size_t i, const char* name, int64_t min, int64_t max) const {
    double d = 0;
    if (napi_get_value_double(info_.Env(), info_[i], &d) != napi_ok || !(d >= static_cast<double>(min)) ||
        !(d <= static_cast<double>(max)) || d != static_cast<double>(static_cast<int64_t>(d)))
      Fail(Describe(i, name) + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return static_cast<int64_t>(d);
  }

  double Number(size_t i, const char* name) const {
    double d = 0;
    if (napi_get_value_double(info_.Env(), info_[i], &d) != napi_ok) Fail(Describe(i, name) + " must be a number");
    return d;
  }

  // values[begin, begin + rank) as a shape: rank <= kMaxRank, every size in [1, 2^31-1].
  std::vector<int64_t> Shape(const std::vector<int64_t>& values, size_t begin, int64_t rank, const char* name) const {
    if (rank < 0 || rank > kMaxRank || begin + static_cast<size_t>(rank) > values.size())
      Fail(std::string("'") + name + "' must have a rank in [0, 8] within its array");
    std::vector<int64_t> shape(values.begin() + begin, values.begin() + begin + rank);
    for (int64_t d : shape)
      if (d < 1) Fail(std::string("'") + name + "' must hold sizes in [1, 2^31-1]");
    return shape;
  }

  void ExpectLength(const F32& buffer, int64_t expected, const char* name) const {
    if (buffer.length != expected)
      Fail(std::string("'") + name + "' has " + std::to_string(buffer.length) + " elements, expected " +
           std::to_string(expected));
  }

 private:
  std::string Describe(size_t i, const char* name) const {
    return "argument " + std::to_string(i) + " ('" + name + "')";
  }

  const Napi::CallbackInfo& info_;
  const char* fn_;
};

inline void ExpectLength(Napi::Env env, const F32& buffer, int64_t expected, const char* name) {
  if (buffer.length != expected) {
    Fail(env, std::string("'") + name + "' has " + std::to_string(buffer.length) + " elements, expected " +
                  std::to_string(expected));
  }
}

void InitBatchNorm(Napi::Env env, Napi::Object exports);
void InitMatMul(Napi::Env env, Napi::Object exports);
void InitConv(Napi::Env env, Napi::Object exports);
void InitPool(Napi::Env env, Napi::Object exports);
void InitElementwise(Napi::Env env, Napi::Object exports);
void InitReduce(Napi::Env env, Napi::Object exports);
void InitShape(Napi::Env env, Napi::Object exports);
void InitDistances(Napi::Env env, Napi::Object exports);

}  // namespace onednn_backend
