// CPU kernels that permute dims: Transpose, DepthToSpace and SpaceToDepth (the latter two are
// a transpose of a 6-D view of the input).
#include <algorithm>

#include "onnx_ops/axes.h"
#include "onnx_ops/tensor_ops.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// Tile edge of the blocked 2-D transpose: a 32x32 tile of 8-byte elements fits in L1 twice.
constexpr int64_t kTile = 32;

// out[j][i] = in[i][j] for a matrix of R rows (R small: an image's colour channels going
// last): each output row is R values gathered from the R input rows, a loop the compiler turns
// into vector shuffles once R is a constant.
template <typename T, int R>
void interleave_rows(const T* __restrict in, T* __restrict out, int64_t cols, int64_t begin, int64_t end) {
  for (int64_t j = begin; j < end; ++j) {
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) out[j * R + i] = in[i * cols + j];
  }
}

template <typename T, int R>
bool try_interleave(const T* in, T* out, int64_t batch, int64_t rows, int64_t cols, int threads) {
  if (rows != R) return false;
  for (int64_t b = 0; b < batch; ++b) {
    const T* src = in + b * rows * cols;
    T* dst = out + b * rows * cols;
    parallel_for(cols, std::max<int64_t>(1, kCopyGrain / R), threads,
                 [&](int64_t begin, int64_t end) { interleave_rows<T, R>(src, dst, cols, begin, end); });
  }
  return true;
}

// out[b][j][i] = in[b][i][j] for `batch` matrices of rows x cols, tile by tile.
template <typename T>
void transpose_batched_2d(const T* in, T* out, int64_t batch, int64_t rows, int64_t cols,
                          int threads) {
  if (try_interleave<T, 2>(in, out, batch, rows, cols, threads) || try_interleave<T, 3>(in, out, batch, rows, cols, threads) ||
      try_interleave<T, 4>(in, out, batch, rows, cols, threads)) {
    return;
  }
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  const int64_t col_tiles = (cols + kTile - 1) / kTile;
  const int64_t tiles = batch * row_tiles * col_tiles;
  parallel_for(tiles, std::max<int64_t>(1, kCopyGrain / (kTile * kTile)), threads,
               [&](int64_t begin, int64_t end) {
                 for (int64_t t = begin; t < end; ++t) {
                   const int64_t b = t / (row_tiles * col_tiles);
                   // Row tiles vary fastest so each thread writes one contiguous output span.
                   const int64_t ct = (t / row_tiles) % col_tiles;
                   const int64_t rt = t % row_tiles;
                   const T* src = in + b * rows * cols;
                   T* dst = out + b * rows * cols;
                   const int64_t r_end = std::min(rows, (rt + 1) * kTile);
                   const int64_t c_end = std::min(cols, (ct + 1) * kTile);
                   // Contiguous writes, strided reads that stay within the tile's cache lines.
                   for (int64_t j = ct * kTile; j < c_end; ++j) {
                     T* out_row = dst + j * rows;
                     for (int64_t i = rt * kTile; i < r_end; ++i) out_row[i] = src[i * cols + j];
                   }
                 }
               });
}

}  // namespace

void transpose_data(DataType dtype, const void* src, const Shape& in_shape,
                    const std::vector<int64_t>& perm, void* dst, int threads) {
  const size_t rank = in_shape.size();
  if (shape_element_count(in_shape) == 0) return;
  // Merge input dims that stay adjacent and in order in the output; drop size-1 dims.
  std::vector<int64_t> kept;  // input axes of size > 1, in output order
  for (int64_t p : perm) {
    if (in_shape[p] != 1) kept.push_back(p);
  }
  std::vector<std::vector<int64_t>> groups;  // runs of consecutive input axes, output order
  for (int64_t axis : kept) {
    if (!groups.empty() && groups.back().back() + 1 == axis) {
      // Adjacent unless a dropped size-1 dim sits between: those never matter.
      groups.back().push_back(axis);
    } else if (!groups.empty()) {
      bool only_ones_between = groups.back().back() < axis;
      for (int64_t d = groups.back().back() + 1; only_ones_between && d < axis; ++d) {
        only_ones_between = in_shape[d] == 1;
      }
      if (only_ones_between) groups.back().push_back(axis);
      else groups.push_back({axis});
    } else {
      groups.push_back({axis});
    }
  }
  // Merged input shape: groups ordered by their first input axis.
  std::vector<size_t> by_input(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) by_input[g] = g;
  std::sort(by_input.begin(), by_input.end(),
            [&](size_t a, size_t b) { return groups[a].front() < groups[b].front(); });
  Shape merged_shape(groups.size());
  std::vector<int64_t> merged_perm(groups.size());
  std::vector<size_t> input_pos(groups.size());
  for (size_t k = 0; k < by_input.size(); ++k) {
    int64_t size = 1;
    for (int64_t axis : groups[by_input[k]]) size *= in_shape[axis];
    merged_shape[k] = size;
    input_pos[by_input[k]] = k;
  }
  for (size_t g = 0; g < groups.size(); ++g) merged_perm[g] = static_cast<int64_t>(input_pos[g]);
  const size_t m = merged_shape.size();

  bool swap_last_two = m >= 2 && merged_perm[m - 1] == int64_t(m - 2) &&
                       merged_perm[m - 2] == int64_t(m - 1);
  for (size_t d = 0; swap_last_two && d + 2 < m; ++d) swap_last_two = merged_perm[d] == int64_t(d);
  if (swap_last_two && dtype != DataType::kString && m <= 3) {
    const int64_t batch = m == 3 ? merged_shape[0] : 1;
    dispatch_by_width(dtype, "Transpose", [&]<typename T>() {
      transpose_batched_2d(static_cast<const T*>(src), static_cast<T*>(dst), batch,
                           merged_shape[m - 2], merged_shape[m - 1], threads);
    });
    return;
  }
  (void)rank;
  std::vector<int64_t> in_strides = contiguous_strides(merged_shape);
  Shape out_shape(m);
  std::vector<int64_t> src_strides(m);
  for (size_t d = 0; d < m; ++d) {
    out_shape[d] = merged_shape[merged_perm[d]];
    src_strides[d] = in_strides[merged_perm[d]];
  }
  strided_copy(dtype, src, dst, out_shape, src_strides, contiguous_strides(out_shape), threads);
}

namespace {

// True when the dims larger than 1 keep their order: then the data is laid out alike and only
// the shape changes (e.g. [N, 1, H, W] -> [N, H, W, 1], which the channels-last pass writes for
// single-channel images).
bool keeps_layout(const Shape& shape, const std::vector<int64_t>& perm) {
  int64_t last = -1;
  for (int64_t axis : perm) {
    if (shape[axis] == 1) continue;
    if (axis < last) return false;
    last = axis;
  }
  return true;
}

class TransposeKernel final : public Kernel {
 public:
  explicit TransposeKernel(const KernelInfo& info) : perm_(info.attributes().get_ints("perm")) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    std::vector<int64_t> perm = resolve_perm(perm_, input.rank());
    Shape out_shape(input.rank());
    for (size_t d = 0; d < perm.size(); ++d) out_shape[d] = input.dim(perm[d]);
    if (keeps_layout(input.shape(), perm)) {
      ctx.set_output(0, input.reshaped(out_shape));  // a view, like Reshape's
      return;
    }
    Tensor& out = ctx.output(0, input.dtype(), out_shape);
    transpose_data(input.dtype(), input.raw_data(), input.shape(), perm, out.mutable_raw_data(),
                   ctx.threads());
  }

 private:
  std::vector<int64_t> perm_;
};

// DepthToSpace (depth_to_space = true) and SpaceToDepth as one 6-D transpose.
class SpaceDepthKernel final : public Kernel {
 public:
  SpaceDepthKernel(const KernelInfo& info, bool depth_to_space)
      : depth_to_space_(depth_to_space),
        block_(info.attributes().require_int("blocksize")),
        crd_(info.attributes().get_string("mode", "DCR") == "CRD") {
    ONYX_CHECK(block_ > 0, ErrorCode::kInvalidModel, info.node().describe(), ": blocksize ",
               block_, " must be positive");
  }
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const char* op = depth_to_space_ ? "DepthToSpace" : "SpaceToDepth";
    ONYX_CHECK(x.rank() == 4, ErrorCode::kInvalidArgument, op, ": input must be 4-D, got ",
               shape_to_string(x.shape()));
    const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), b = block_;
    Shape view, out_shape;
    std::vector<int64_t> perm;
    if (depth_to_space_) {
      ONYX_CHECK(c % (b * b) == 0, ErrorCode::kInvalidArgument, op, ": channels ", c,
                 " are not divisible by blocksize^2 = ", b * b);
      if (crd_) {
        view = {n, c / (b * b), b, b, h, w};
        perm = {0, 1, 4, 2, 5, 3};
      } else {
        view = {n, b, b, c / (b * b), h, w};
        perm = {0, 3, 4, 1, 5, 2};
      }
      out_shape = {n, c / (b * b), h * b, w * b};
    } else {
      ONYX_CHECK(h % b == 0 && w % b == 0, ErrorCode::kInvalidArgument, op, ": spatial dims ",
                 h, "x", w, " are not divisible by blocksize ", b);
      view = {n, c, h / b, b, w / b, b};
      perm = crd_ ? std::vector<int64_t>{0, 1, 3, 5, 2, 4} : std::vector<int64_t>{0, 3, 5, 1, 2, 4};
      out_shape = {n, c * b * b, h / b, w / b};
    }
    Tensor& out = ctx.output(0, x.dtype(), out_shape);
    transpose_data(x.dtype(), x.raw_data(), view, perm, out.mutable_raw_data(), ctx.threads());
  }

 private:
  bool depth_to_space_;
  int64_t block_;
  bool crd_;
};

std::unique_ptr<Kernel> make_depth_to_space(const KernelInfo& info) {
  return std::make_unique<SpaceDepthKernel>(info, true);
}
std::unique_ptr<Kernel> make_space_to_depth(const KernelInfo& info) {
  return std::make_unique<SpaceDepthKernel>(info, false);
}

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Transpose", 1, kOpsetOpenEnded, TransposeKernel);
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "DepthToSpace", 1, kOpsetOpenEnded, make_depth_to_space);
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "SpaceToDepth", 1, kOpsetOpenEnded, make_space_to_depth);

}  // namespace onyx
