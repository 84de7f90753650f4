#include "runtime/tensor/shape_arithmetic.h"

#include <algorithm>
#include <cmath>

#include "runtime/common/error.h"

namespace onyx {

std::string shape_to_string(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) text += ",";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

int64_t checked_dim_product(int64_t a, int64_t b, std::string_view what) {
  if (auto result = multiply_dims(a, b)) return *result;
  throw_error(ErrorCode::kInvalidModel, what, " overflows int64 (", a, " * ", b, ")");
}

int64_t checked_dim_sum(int64_t a, int64_t b, std::string_view what) {
  if (auto result = add_dims(a, b)) return *result;
  throw_error(ErrorCode::kInvalidModel, what, " overflows int64 (", a, " + ", b, ")");
}

std::optional<int64_t> floor_to_dim(double value) {
  // 2^63 is exact in a double; every double below it converts to int64 without overflow.
  if (!(value >= 0) || !(value < 9223372036854775808.0)) return std::nullopt;
  return static_cast<int64_t>(std::floor(value));
}

int64_t checked_floor_to_dim(double value, std::string_view what) {
  if (auto dim = floor_to_dim(value)) return *dim;
  throw_error(ErrorCode::kInvalidArgument, what, " is ", value, ", not a dimension (it must be finite, at least 0 ",
              "and below 2^63)");
}

int64_t shape_element_count_slow(const Shape& shape) {
  for (int64_t dim : shape) {
    if (dim < 0) throw_error(ErrorCode::kInvalidArgument, "negative dimension in shape ", shape_to_string(shape));
  }
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  throw_error(ErrorCode::kInvalidArgument, "shape ", shape_to_string(shape), " has more than 2^63 elements");
}

namespace {
size_t element_storage_bits(DataType type) { return static_cast<size_t>(dtype_storage_bits(type)); }

// A non-negative integer of any size, as base-10^9 limbs, least significant first.
class DecimalNumber {
 public:
  explicit DecimalNumber(uint64_t value) {
    do {
      limbs_.push_back(static_cast<uint32_t>(value % kBase));
      value /= kBase;
    } while (value != 0);
  }
  void multiply(uint64_t factor) {  // factor < 2^63, so limb * factor + carry fits 128 bits
    unsigned __int128 carry = 0;
    for (uint32_t& limb : limbs_) {
      unsigned __int128 value = static_cast<unsigned __int128>(limb) * factor + carry;
      limb = static_cast<uint32_t>(value % kBase);
      carry = value / kBase;
    }
    for (; carry != 0; carry /= kBase) limbs_.push_back(static_cast<uint32_t>(carry % kBase));
  }
  void add(uint32_t addend) {
    uint64_t carry = addend;
    for (size_t i = 0; carry != 0; ++i) {
      if (i == limbs_.size()) limbs_.push_back(0);
      uint64_t value = limbs_[i] + carry;
      limbs_[i] = static_cast<uint32_t>(value % kBase);
      carry = value / kBase;
    }
  }
  void divide(uint32_t divisor) {
    uint64_t remainder = 0;
    for (size_t i = limbs_.size(); i-- > 0;) {
      uint64_t value = remainder * kBase + limbs_[i];
      limbs_[i] = static_cast<uint32_t>(value / divisor);
      remainder = value % divisor;
    }
    while (limbs_.size() > 1 && limbs_.back() == 0) limbs_.pop_back();
  }
  std::string to_string() const {
    std::string text = std::to_string(limbs_.back());
    for (size_t i = limbs_.size() - 1; i-- > 0;) {
      std::string limb = std::to_string(limbs_[i]);
      text += std::string(9 - limb.size(), '0') + limb;
    }
    return text;
  }

 private:
  static constexpr uint64_t kBase = 1000000000;
  std::vector<uint32_t> limbs_;
};
}  // namespace

std::string exact_storage_bytes(DataType type, const Shape& shape) {
  DecimalNumber bits(element_storage_bits(type));
  for (int64_t dim : shape) bits.multiply(static_cast<uint64_t>(std::max<int64_t>(dim, 0)));
  bits.add(7);
  bits.divide(8);
  return bits.to_string();
}

}  // namespace onyx
