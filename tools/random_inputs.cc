#include "tools/random_inputs.h"

#include <random>

namespace onyx::cli {

namespace {
template <typename T, typename Distribution>
void fill(Tensor& tensor, Distribution distribution, std::mt19937_64& generator) {
  T* data = tensor.mutable_data<T>();
  for (int64_t i = 0; i < tensor.element_count(); ++i) data[i] = static_cast<T>(distribution(generator));
}
}  // namespace

Value random_value(const std::string& name, const TypeInfo& type, uint64_t seed) {
  if (type.kind != TypeInfo::Kind::kTensor) {
    throw_error(ErrorCode::kNotImplemented, "--random cannot make input '", name, "' of type ",
                type.to_string());
  }
  Shape shape;
  if (type.shape) {
    for (const Dim& d : *type.shape) shape.push_back(d.is_known() ? d.value : 1);
  }
  Tensor tensor(type.elem_type, shape);
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int> small(0, 9);
  switch (type.elem_type) {
    case DataType::kFloat: fill<float>(tensor, real, generator); break;
    case DataType::kDouble: fill<double>(tensor, real, generator); break;
    case DataType::kFloat16: {
      auto* data = tensor.mutable_data<Float16>();
      for (int64_t i = 0; i < tensor.element_count(); ++i) data[i] = Float16(static_cast<float>(real(generator)));
      break;
    }
    case DataType::kBFloat16: {
      auto* data = tensor.mutable_data<BFloat16>();
      for (int64_t i = 0; i < tensor.element_count(); ++i) data[i] = BFloat16(static_cast<float>(real(generator)));
      break;
    }
    case DataType::kInt64: fill<int64_t>(tensor, small, generator); break;
    case DataType::kInt32: fill<int32_t>(tensor, small, generator); break;
    case DataType::kInt16: fill<int16_t>(tensor, small, generator); break;
    case DataType::kInt8: fill<int8_t>(tensor, small, generator); break;
    case DataType::kUInt8: fill<uint8_t>(tensor, small, generator); break;
    case DataType::kUInt16: fill<uint16_t>(tensor, small, generator); break;
    case DataType::kUInt32: fill<uint32_t>(tensor, small, generator); break;
    case DataType::kUInt64: fill<uint64_t>(tensor, small, generator); break;
    case DataType::kBool: fill<bool>(tensor, std::bernoulli_distribution(0.5), generator); break;
    default:
      throw_error(ErrorCode::kNotImplemented, "--random cannot make input '", name, "' of type ",
                  type.to_string());
  }
  return tensor;
}

}  // namespace onyx::cli
