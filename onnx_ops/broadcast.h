// NumPy multidirectional broadcasting, shared by every op that broadcasts its inputs (math,
// comparisons, Where, Expand, PRelu, ...): the output shape (static and symbolic), and a plan
// that walks the output in contiguous runs so kernels keep vectorizable inner loops.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/ir/type_info.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

// Output shape of broadcasting `shapes` together; throws kInvalidArgument naming `what` (the op)
// and the shapes when they are incompatible.
Shape broadcast_shapes(std::span<const Shape> shapes, std::string_view what = "broadcast");
Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view what = "broadcast");

// Same on inferred dims: known numbers where they can be told, symbols kept when all
// non-1 inputs agree on one, unknown otherwise. Throws on two different known dims (neither 1).
std::vector<Dim> broadcast_dims(std::span<const std::vector<Dim>> shapes,
                                std::string_view what = "broadcast");

// Iteration plan of a broadcast of up to kMaxInputs inputs into `output_shape`. Adjacent dims
// that broadcast the same way in every input are merged, so the innermost run is as long as
// possible; each input's innermost stride is then 0 (repeated) or 1 (contiguous).
class BroadcastPlan {
 public:
  static constexpr size_t kMaxInputs = 8;

  // `input_shapes` must broadcast to `output_shape` (checked).
  BroadcastPlan(std::span<const Shape> input_shapes, const Shape& output_shape);

  int64_t output_count() const { return output_count_; }
  // Length of one contiguous output run and how many runs make the output.
  int64_t run_length() const { return dims_.empty() ? 1 : dims_.back(); }
  int64_t run_count() const { return run_length() == 0 ? 0 : output_count_ / run_length(); }
  // Inner stride (0 or 1) of input i along a run.
  int64_t inner_stride(size_t input) const {
    return dims_.empty() ? 0 : strides_[input].back();
  }
  size_t input_count() const { return input_count_; }

  // Calls body(out_offset, in_offsets) for runs [begin_run, end_run): out_offset is the element
  // offset of the run in the output, in_offsets[i] that of input i's first element.
  template <typename Body>
  void for_each_run(int64_t begin_run, int64_t end_run, const Body& body) const;

 private:
  size_t input_count_ = 0;
  int64_t output_count_ = 0;
  std::vector<int64_t> dims_;                            // merged dims, outer to inner
  std::array<std::vector<int64_t>, kMaxInputs> strides_;  // per input, per merged dim
};

template <typename Body>
void BroadcastPlan::for_each_run(int64_t begin_run, int64_t end_run, const Body& body) const {
  if (begin_run >= end_run) return;
  const size_t outer_rank = dims_.empty() ? 0 : dims_.size() - 1;
  const int64_t run = run_length();
  std::array<int64_t, kMaxInputs> offsets{};
  if (outer_rank == 1) {
    // Rows of one shape (a per-channel scale of a channels-last image, a bias row): the offsets
    // are multiples of the row, without the odometer, which cost more than a short run itself.
    for (int64_t r = begin_run; r < end_run; ++r) {
      for (size_t i = 0; i < input_count_; ++i) offsets[i] = r * strides_[i][0];
      body(r * run, static_cast<const int64_t*>(offsets.data()));
    }
    return;
  }
  // Odometer over the outer dims, started at begin_run.
  std::array<int64_t, 16> small_index{};
  std::vector<int64_t> big_index;
  int64_t* index = small_index.data();
  if (outer_rank > small_index.size()) {
    big_index.assign(outer_rank, 0);
    index = big_index.data();
  }
  int64_t rest = begin_run;
  for (size_t d = outer_rank; d-- > 0;) {
    index[d] = rest % dims_[d];
    rest /= dims_[d];
    for (size_t i = 0; i < input_count_; ++i) offsets[i] += index[d] * strides_[i][d];
  }
  for (int64_t r = begin_run; r < end_run; ++r) {
    body(r * run, static_cast<const int64_t*>(offsets.data()));
    for (size_t d = outer_rank; d-- > 0;) {
      for (size_t i = 0; i < input_count_; ++i) offsets[i] += strides_[i][d];
      if (++index[d] < dims_[d]) break;
      for (size_t i = 0; i < input_count_; ++i) offsets[i] -= index[d] * strides_[i][d];
      index[d] = 0;
    }
  }
}

}  // namespace onyx
