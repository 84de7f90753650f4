#include "runtime/eager/attribute_hash.h"

#include <cstring>
#include <functional>
#include <string_view>

namespace onyx::eager {

namespace {

// Tensor attributes compare by contents (a ConstantOfShape value built anew each call must
// still hit the cache); string tensors compare element by element.
bool tensors_equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  if (a.raw_data() == b.raw_data()) return true;
  if (a.is_symbolic() || b.is_symbolic()) return false;
  if (a.dtype() == DataType::kString) {
    auto x = a.values<std::string>();
    auto y = b.values<std::string>();
    return std::equal(x.begin(), x.end(), y.begin());
  }
  return std::memcmp(a.raw_data(), b.raw_data(), a.byte_size()) == 0;
}

uint64_t hash_bytes(const void* data, size_t size) {
  return std::hash<std::string_view>{}(std::string_view(static_cast<const char*>(data), size));
}

uint64_t hash_tensor(const Tensor& tensor) {
  uint64_t h = static_cast<uint64_t>(tensor.dtype()) * 31 + tensor.rank();
  if (!tensor.defined() || tensor.is_symbolic() || tensor.dtype() == DataType::kString) return h;
  return h ^ hash_bytes(tensor.raw_data(), tensor.byte_size());
}

}  // namespace

bool attributes_equal(const Attribute& a, const Attribute& b) {
  if (a.name != b.name || a.kind != b.kind || a.ref_attr_name != b.ref_attr_name) return false;
  using Kind = Attribute::Kind;
  switch (a.kind) {
    case Kind::kFloat: return std::memcmp(&a.f, &b.f, sizeof(float)) == 0;
    case Kind::kInt: return a.i == b.i;
    case Kind::kString: return a.s == b.s;
    case Kind::kTensor:
    case Kind::kSparseTensor: return tensors_equal(a.t, b.t);
    case Kind::kGraph: return a.g == b.g;  // the same graph object
    case Kind::kFloats:
      return a.floats.size() == b.floats.size() &&
             std::memcmp(a.floats.data(), b.floats.data(), a.floats.size() * sizeof(float)) == 0;
    case Kind::kInts: return a.ints == b.ints;
    case Kind::kStrings: return a.strings == b.strings;
    case Kind::kTensors:
    case Kind::kSparseTensors:
      if (a.tensors.size() != b.tensors.size()) return false;
      for (size_t i = 0; i < a.tensors.size(); ++i) {
        if (!tensors_equal(a.tensors[i], b.tensors[i])) return false;
      }
      return true;
    case Kind::kGraphs: return a.graphs == b.graphs;
    case Kind::kTypeProto: return a.tp.to_string() == b.tp.to_string();
    case Kind::kTypeProtos:
      if (a.type_protos.size() != b.type_protos.size()) return false;
      for (size_t i = 0; i < a.type_protos.size(); ++i) {
        if (a.type_protos[i].to_string() != b.type_protos[i].to_string()) return false;
      }
      return true;
    case Kind::kUndefined: return true;
  }
  return false;
}

uint64_t hash_attributes(std::span<const Attribute> attributes) {
  uint64_t h = 1469598103934665603ull;
  auto combine = [&h](uint64_t value) { h = (h ^ value) * 1099511628211ull; };
  for (const Attribute& a : attributes) {
    combine(std::hash<std::string>{}(a.name));
    combine(static_cast<uint64_t>(a.kind));
    switch (a.kind) {
      case Attribute::Kind::kFloat: combine(hash_bytes(&a.f, sizeof(float))); break;
      case Attribute::Kind::kInt: combine(static_cast<uint64_t>(a.i)); break;
      case Attribute::Kind::kString: combine(std::hash<std::string>{}(a.s)); break;
      case Attribute::Kind::kTensor: combine(hash_tensor(a.t)); break;
      case Attribute::Kind::kGraph: combine(reinterpret_cast<uintptr_t>(a.g.get())); break;
      case Attribute::Kind::kFloats: combine(hash_bytes(a.floats.data(), a.floats.size() * sizeof(float))); break;
      case Attribute::Kind::kInts: combine(hash_bytes(a.ints.data(), a.ints.size() * sizeof(int64_t))); break;
      case Attribute::Kind::kStrings:
        for (const auto& s : a.strings) combine(std::hash<std::string>{}(s));
        break;
      default: combine(a.tensors.size() + a.graphs.size()); break;
    }
  }
  return h;
}

}  // namespace onyx::eager
