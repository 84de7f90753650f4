// The checked arithmetic that every shape rule and allocation goes through (shape_arithmetic.h),
// the memory limit's message, and the UTF-8 check of the text ops. Expected values come from
// Python: big-integer byte counts and the strict UTF-8 decoder's error offsets.
#include <gtest/gtest.h>

#include <limits>
#include <new>
#include <stdexcept>
#include <optional>
#include <string>

#include "runtime/common/error.h"
#include "runtime/common/utf8.h"
#include "runtime/tensor/memory_limit.h"
#include "runtime/tensor/shape_arithmetic.h"

namespace onyx {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(ShapeArithmetic, ProductsAndSumsReportOverflowInsteadOfWrapping) {
  EXPECT_EQ(multiply_dims(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
  EXPECT_EQ(multiply_dims(int64_t{1} << 32, int64_t{1} << 31), std::nullopt);
  EXPECT_EQ(multiply_dims(kMax, 0), 0);
  EXPECT_EQ(add_dims(kMax, 1), std::nullopt);
  EXPECT_EQ(add_dims(kMax - 1, 1), kMax);
  try {
    checked_dim_product(int64_t{1} << 62, 4, "Tile: the output dim of axis 0");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "Tile: the output dim of axis 0 overflows int64 (4611686018427387904 * 4)");
  }
}

TEST(ShapeArithmetic, ElementCounts) {
  EXPECT_EQ(shape_element_count({}), 1);
  EXPECT_EQ(shape_element_count({2, 0, 5}), 0);
  // A zero anywhere makes the count 0 even when the other dims alone would overflow.
  EXPECT_EQ(shape_element_count({kMax, kMax, 0}), 0);
  EXPECT_THROW(shape_element_count({int64_t{1} << 32, int64_t{1} << 32}), Error);
  EXPECT_THROW(shape_element_count({3, -1}), Error);
}

TEST(ShapeArithmetic, FloorToDimRefusesWhatHasNoInt64Value) {
  EXPECT_EQ(floor_to_dim(4.9), 4);
  EXPECT_EQ(floor_to_dim(0.0), 0);
  EXPECT_EQ(floor_to_dim(9223372036854774784.0), int64_t{9223372036854774784});  // the largest double below 2^63
  for (double bad : {-0.5, 9223372036854775808.0, 1e300, std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_EQ(floor_to_dim(bad), std::nullopt) << bad;
  }
  EXPECT_THROW(checked_floor_to_dim(std::numeric_limits<double>::quiet_NaN(), "a scale"), Error);
}

TEST(ShapeArithmetic, StorageBytesAndTheirExactDecimalValue) {
  EXPECT_EQ(storage_bytes(DataType::kFloat, 6), 24u);
  EXPECT_EQ(storage_bytes(DataType::kInt4, 3), 2u);  // 12 bits round up to 2 bytes
  EXPECT_EQ(storage_bytes(DataType::kFloat, int64_t{1} << 62), std::nullopt);
  // 2^62 and 2^80 float elements, as Python's integers say: 2**62*4, 2**80*4.
  EXPECT_EQ(exact_storage_bytes(DataType::kFloat, {int64_t{1} << 31, int64_t{1} << 31}), "18446744073709551616");
  EXPECT_EQ(exact_storage_bytes(DataType::kFloat, {int64_t{1} << 40, int64_t{1} << 40}), "4835703278458516698824704");
  EXPECT_EQ(exact_storage_bytes(DataType::kInt4, {3}), "2");
}

TEST(MemoryLimit, NamesTheOutputAndBothByteCounts) {
  check_output_within_limit(0, DataType::kFloat, {1 << 14, 1 << 14}, size_t{1} << 30);  // exactly 1 GiB fits
  check_output_within_limit(0, DataType::kFloat, {kMax, kMax, 0}, 1);                  // empty: nothing to allocate
  try {
    check_output_within_limit(2, DataType::kFloat, {1 << 14, (1 << 14) + 1}, size_t{1} << 30);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("output 2 needs 1073807360 bytes, over the limit of 1073741824 bytes"),
              std::string::npos)
        << error.what();
  }
  EXPECT_GT(default_memory_limit(), size_t{1} << 20);
}

TEST(Utf8, AgreesWithPythonsStrictDecoder) {
  const std::pair<std::string, std::optional<size_t>> cases[] = {
      {std::string("", 0), std::nullopt},
      {std::string("\x70\x6c\x61\x69\x6e\x20\x61\x73\x63\x69\x69", 11), std::nullopt},
      {std::string("\x68\xc3\xa9\x6c\x6c\x6f\x20\x77\xc3\xb6\x72\x6c\x64\x20\xe2\x82\xac\xf0\x9d\x84\x9e", 21), std::nullopt},
      {std::string("\xff", 1), 0},
      {std::string("\x61\x62\x63\xc3", 4), 3},
      {std::string("\xed\xa0\x80", 3), 0},
      {std::string("\xc0\xaf", 2), 0},
      {std::string("\xe0\x80\xaf", 3), 0},
      {std::string("\xf4\x90\x80\x80", 4), 0},
      {std::string("\xf0\x9f\x98\x80\x6f\x6b", 6), std::nullopt},
      {std::string("\x6f\x6b\xe2\x82", 4), 2},
      {std::string("\x61\x80\x62", 3), 1},
      {std::string("\xf8\x88\x80\x80\x80", 5), 0},
      {std::string("\xef\xbf\xbf", 3), std::nullopt},
      {std::string("\xf4\x8f\xbf\xbf", 4), std::nullopt},
      {std::string("\xed\x9f\xbf", 3), std::nullopt},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(first_invalid_utf8_byte(text), expected) << text;
}

TEST(UserMessage, StandardExceptionsReadAsSentences) {
  EXPECT_EQ(user_message(Error(ErrorCode::kInvalidModel, "node 'x' (Relu): bad")), "node 'x' (Relu): bad");
  const std::string bad_alloc = user_message(std::bad_alloc());
  EXPECT_EQ(bad_alloc.find("std::"), std::string::npos);
  EXPECT_NE(bad_alloc.find("out of memory"), std::string::npos);
  const std::string length = user_message(std::length_error("basic_string::_M_create"));
  EXPECT_EQ(length.find("basic_string"), std::string::npos) << length;
  const std::string range = user_message(std::out_of_range("vector::_M_range_check: __n (which is 5) >= this->size()"));
  EXPECT_EQ(range.find("_M_"), std::string::npos) << range;
}

}  // namespace
}  // namespace onyx
