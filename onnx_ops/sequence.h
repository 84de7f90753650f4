// Meaning of the sequence ops (SequenceEmpty/Construct/Insert/Erase/At/Length, SplitToSequence,
// ConcatFromSequence) shared by their shape rules (onnx_ops/sequence.cc) and CPU kernels
// (providers/cpu/sequence/): position arithmetic and SplitToSequence chunk sizes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/ir/type_info.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

// Maps a position in [-size, size - 1] (or [-size, size] with `allow_end`, where `size` means
// "append") to [0, size); throws kInvalidArgument naming `op`, the position and the size.
int64_t normalize_sequence_position(int64_t position, int64_t size, bool allow_end,
                                    std::string_view op);

// Reads a position input: a scalar (or one-element) int32/int64 tensor.
int64_t sequence_position_value(const Tensor& position, std::string_view op);

// Chunk sizes of SplitToSequence along an axis of length `dim`: without `split`, chunks of 1;
// a scalar split s gives chunks of s with a smaller last one; a 1-D split gives its sizes,
// which must sum to `dim`.
std::vector<int64_t> split_to_sequence_sizes(int64_t dim, const Tensor* split);

// The tensor type that covers both `a` and `b`: dims they agree on stay, others become
// unknown, and the shape is dropped when ranks differ or either is unknown.
TypeInfo merge_tensor_types(const TypeInfo& a, const TypeInfo& b);

}  // namespace onyx
