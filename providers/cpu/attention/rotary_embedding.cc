// RotaryEmbedding (opset 23): rotates the first rotary_embedding_dim features of every head by
// per-position angles given as cos/sin caches, either in halves (x1 = first half, x2 = second)
// or interleaved (x1 = even features, x2 = odd ones). Computed in float for 16-bit types.
#include <cstring>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"
#include "runtime/common/parallel.h"
#include "runtime/tensor/half.h"

namespace onyx {

namespace {

[[noreturn]] void bad_rotary_embedding(const std::string& what) {
  throw_error(ErrorCode::kInvalidArgument, "RotaryEmbedding: ", what);
}

class RotaryEmbeddingKernel : public Kernel {
 public:
  explicit RotaryEmbeddingKernel(const KernelInfo& info) {
    interleaved_ = info.attributes().get_int("interleaved", 0) != 0;
    rotary_dim_ = info.attributes().get_int("rotary_embedding_dim", 0);
    num_heads_ = info.attributes().get_int("num_heads", 0);
  }

  void compute(KernelContext& ctx) override {
    dispatch_dtype_or_throw<TypeList<float, Float16, BFloat16>>(ctx.input(0).dtype(), "RotaryEmbedding",
                                                                [&]<typename T>() { run<T>(ctx); });
  }

 private:
  template <typename T>
  void run(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    const Tensor& cos = ctx.input(1);
    const Tensor& sin = ctx.input(2);
    if (cos.dtype() != x.dtype() || sin.dtype() != x.dtype()) {
      bad_rotary_embedding("cos_cache and sin_cache must have the type of X");
    }
    const Shape& xs = x.shape();
    int64_t batch, seq, heads, head_size;
    // Element (b, s, h, 0) sits at b*batch_stride + s*seq_stride + h*head_stride.
    int64_t batch_stride, seq_stride, head_stride;
    if (xs.size() == 4) {
      batch = xs[0], heads = xs[1], seq = xs[2], head_size = xs[3];
      batch_stride = heads * seq * head_size, seq_stride = head_size,
      head_stride = seq * head_size;
    } else if (xs.size() == 3) {
      if (num_heads_ <= 0) bad_rotary_embedding("3-D input needs a positive num_heads attribute");
      if (xs[2] % num_heads_ != 0) {
        bad_rotary_embedding("hidden size " + std::to_string(xs[2]) + " is not divisible by num_heads=" +
            std::to_string(num_heads_));
      }
      batch = xs[0], seq = xs[1], heads = num_heads_, head_size = xs[2] / num_heads_;
      batch_stride = seq * xs[2], seq_stride = xs[2], head_stride = head_size;
    } else {
      bad_rotary_embedding("X must be 3-D or 4-D, got " + shape_to_string(xs));
    }
    int64_t rotary = rotary_dim_ == 0 ? head_size : rotary_dim_;
    if (rotary > head_size || rotary % 2 != 0) {
      bad_rotary_embedding("rotary_embedding_dim " + std::to_string(rotary) + " must be even and at most the head "
          "size " + std::to_string(head_size));
    }
    const int64_t half = rotary / 2;
    if (cos.shape() != sin.shape() || cos.shape().empty() || cos.shape().back() != half) {
      bad_rotary_embedding("cos_cache " + shape_to_string(cos.shape()) + " and sin_cache " +
          shape_to_string(sin.shape()) + " must match and end in rotary_embedding_dim/2 = " +
          std::to_string(half));
    }
    // Row of the caches for each (batch, position).
    std::vector<int64_t> rows(batch * seq);
    if (ctx.has_input(3)) {
      const Tensor& ids = ctx.input(3);
      std::vector<int64_t> pos = ids.to_int64_vector();
      if (static_cast<int64_t>(pos.size()) != batch * seq && static_cast<int64_t>(pos.size()) != seq) {
        bad_rotary_embedding("position_ids " + shape_to_string(ids.shape()) + " must be [batch, sequence]");
      }
      if (cos.rank() != 2) bad_rotary_embedding("with position_ids the caches must be 2-D [max_position, dim/2]");
      for (int64_t i = 0; i < batch * seq; ++i) {
        int64_t p = pos[static_cast<int64_t>(pos.size()) == seq ? i % seq : i];
        if (p < 0 || p >= cos.dim(0)) {
          bad_rotary_embedding("position id " + std::to_string(p) + " is outside the cache of " +
              std::to_string(cos.dim(0)) + " positions");
        }
        rows[i] = p;
      }
    } else if (cos.rank() == 3 && cos.dim(0) == batch && cos.dim(1) == seq) {
      for (int64_t i = 0; i < batch * seq; ++i) rows[i] = i;
    } else if ((cos.rank() == 2 && cos.dim(0) >= seq) ||
               (cos.rank() == 3 && cos.dim(0) == 1 && cos.dim(1) == seq)) {  // shared by batches
      for (int64_t i = 0; i < batch * seq; ++i) rows[i] = i % seq;
    } else {
      bad_rotary_embedding("without position_ids the caches must be [batch, sequence, dim/2], got " +
          shape_to_string(cos.shape()));
    }
    const T* xd = x.data<T>();
    const T* cd = cos.data<T>();
    const T* sd = sin.data<T>();
    Tensor& out = ctx.output(0, x.dtype(), xs);
    T* yd = out.mutable_data<T>();
    const bool interleaved = interleaved_;
    parallel_for(batch * seq, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, heads * head_size)),
                 ctx.threads(), [&](int64_t begin, int64_t end) {
      for (int64_t bs = begin; bs < end; ++bs) {
        const int64_t b = bs / seq, s = bs % seq;
        const T* c = cd + rows[bs] * half;
        const T* sn = sd + rows[bs] * half;
        for (int64_t h = 0; h < heads; ++h) {
          int64_t base = b * batch_stride + s * seq_stride + h * head_stride;
          const T* in = xd + base;
          T* o = yd + base;
          for (int64_t i = 0; i < half; ++i) {
            int64_t i1 = interleaved ? 2 * i : i;
            int64_t i2 = interleaved ? 2 * i + 1 : i + half;
            float x1 = static_cast<float>(in[i1]), x2 = static_cast<float>(in[i2]);
            float cv = static_cast<float>(c[i]), sv = static_cast<float>(sn[i]);
            o[i1] = T(cv * x1 - sv * x2);
            o[i2] = T(sv * x1 + cv * x2);
          }
          for (int64_t d = rotary; d < head_size; ++d) o[d] = in[d];
        }
      }
    });
  }

  bool interleaved_;
  int64_t rotary_dim_, num_heads_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "RotaryEmbedding", 23, kOpsetOpenEnded, RotaryEmbeddingKernel);

}  // namespace onyx
