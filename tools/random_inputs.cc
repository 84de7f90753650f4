#include "tools/random_inputs.h"

#include "runtime/common/portable_random.h"
#include "runtime/tensor/memory_limit.h"

namespace onyx::cli {

namespace {
// Values from a draw function, the same with every standard library (portable_random.h).
template <typename T, typename Draw>
void fill(Tensor& tensor, Draw draw) {
  T* data = tensor.mutable_data<T>();
  for (int64_t i = 0; i < tensor.element_count(); ++i) data[i] = static_cast<T>(draw());
}
}  // namespace

Value random_value(const std::string& name, const TypeInfo& type, uint64_t seed, size_t memory_limit) {
  if (type.kind != TypeInfo::Kind::kTensor) {
    throw_error(ErrorCode::kNotImplemented, "--random cannot make input '", name, "' of type ",
                type.to_string());
  }
  Shape shape;
  if (type.shape) {
    for (const Dim& d : *type.shape) shape.push_back(d.is_known() ? d.value : 1);
  }
  check_tensor_within_limit("--random input '" + name + "' of shape " + shape_to_string(shape), type.elem_type, shape,
                            memory_limit);
  Tensor tensor(type.elem_type, shape);
  portable_random::Engine generator(seed);
  auto real = [&] { return portable_random::uniform(generator, -1.0, 1.0); };  // floating point
  auto small = [&] { return static_cast<int>(portable_random::index_below(generator, 10)); };  // integers 0..9
  auto coin = [&] { return portable_random::bernoulli(generator, 0.5); };
  switch (type.elem_type) {
    case DataType::kFloat: fill<float>(tensor, real); break;
    case DataType::kDouble: fill<double>(tensor, real); break;
    case DataType::kFloat16: {
      auto* data = tensor.mutable_data<Float16>();
      for (int64_t i = 0; i < tensor.element_count(); ++i) data[i] = Float16(static_cast<float>(real()));
      break;
    }
    case DataType::kBFloat16: {
      auto* data = tensor.mutable_data<BFloat16>();
      for (int64_t i = 0; i < tensor.element_count(); ++i) data[i] = BFloat16(static_cast<float>(real()));
      break;
    }
    case DataType::kInt64: fill<int64_t>(tensor, small); break;
    case DataType::kInt32: fill<int32_t>(tensor, small); break;
    case DataType::kInt16: fill<int16_t>(tensor, small); break;
    case DataType::kInt8: fill<int8_t>(tensor, small); break;
    case DataType::kUInt8: fill<uint8_t>(tensor, small); break;
    case DataType::kUInt16: fill<uint16_t>(tensor, small); break;
    case DataType::kUInt32: fill<uint32_t>(tensor, small); break;
    case DataType::kUInt64: fill<uint64_t>(tensor, small); break;
    case DataType::kBool: fill<bool>(tensor, coin); break;
    default:
      throw_error(ErrorCode::kNotImplemented, "--random cannot make input '", name, "' of type ",
                  type.to_string());
  }
  return tensor;
}

}  // namespace onyx::cli
