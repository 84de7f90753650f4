// oneDNN plumbing shared by the CPU linalg and nn kernels (and training's ConvWeightGrad): one
// engine for the process, a stream per thread, per-call work memory, a cache of primitives by
// shape and a cached fp32 GEMM primitive. oneDNN runs on the same OpenMP pool as parallel_for,
// so no other threads are involved.
//
// Concurrency: a kernel object serves every run of its session, and runs may overlap. So a
// primitive holds nothing a call writes: every primitive here is created with a user-managed
// scratchpad (dnnl::scratchpad_mode::user; the library's own is shared by every primitive of a
// thread and by concurrent calls of one primitive), and its scratchpad and layout-conversion
// buffers come from the call's KernelContext::scratch, laid out by DnnlWorkspace.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "providers/precision.h"

namespace onyx {

dnnl::engine& dnnl_cpu_engine();
dnnl::stream& dnnl_cpu_stream();  // thread_local: streams are not thread-safe

// Attributes every onyx primitive starts from: the scratchpad is the caller's (see above).
dnnl::primitive_attr dnnl_attributes();

// Throws dnnl::error when oneDNN found only its reference kernel for a reduced-precision (bf16
// or int8) primitive: a loop many times slower than the float primitive or onyx's own integer
// loops, which callers use instead.
void require_native_kernel(const dnnl::primitive_desc_base& pd);

// Copies `from` into `to` (same dims, any layouts) and waits: for packing constant weights once.
void reorder_now(const dnnl::memory& from, const dnnl::memory& to);

// Where one call's oneDNN memories lie inside one work buffer of bytes() bytes: each reserved
// memory at a 64-byte aligned offset. Built once with the primitive; each call binds it to
// memory of its own.
class DnnlWorkspace {
 public:
  // Reserves room for a memory of `desc`; returns its index for at(). An empty desc (a
  // primitive without scratchpad) reserves nothing and gives -1.
  int reserve(const dnnl::memory::desc& desc);
  size_t bytes() const { return bytes_; }
  // Memory `index` inside `base` (bytes() long); an empty memory for index -1. With a null
  // base, a memory with no buffer yet, to be pointed at base + offset(index) per call.
  dnnl::memory at(int index, void* base) const;
  size_t offset(int index) const { return parts_[static_cast<size_t>(index)].second; }

 private:
  std::vector<std::pair<dnnl::memory::desc, size_t>> parts_;  // desc and offset
  size_t bytes_ = 0;
};

// A layout conversion built once, run per call with its scratchpad in the call's workspace.
class DnnlReorder {
 public:
  DnnlReorder() = default;
  // Reserves the scratchpad in `workspace`.
  DnnlReorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to, DnnlWorkspace& workspace);
  void execute(dnnl::stream& stream, const dnnl::memory& from, const dnnl::memory& to, const DnnlWorkspace& workspace,
               void* scratch) const;

 private:
  dnnl::reorder primitive_;
  int scratchpad_ = -1;
};

// Primitives by shape (or any ordered key) for kernels whose shapes vary between runs. Entries
// are shared, so evicting one never frees a primitive another run is still executing; a null
// entry records a case oneDNN cannot express. Bounded: a model feeding ever-new shapes should
// not grow memory without limit.
template <typename Key, typename T>
class PrimitiveCache {
 public:
  explicit PrimitiveCache(size_t limit) : limit_(limit) {}
  // The entry for `key`, built by make() (returning std::shared_ptr<T>) on a miss. Built under
  // the lock, so concurrent first runs build it once.
  template <typename Make>
  std::shared_ptr<const T> get(const Key& key, const Make& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      if (entries_.size() >= limit_) entries_.clear();
      it = entries_.emplace(key, make()).first;
    }
    return it->second;
  }

 private:
  size_t limit_;
  std::mutex mutex_;
  std::map<Key, std::shared_ptr<const T>> entries_;
};

// C[b] = act(alpha * op(A[b]) * op(B[b]) (+ bias) (+ C[b] when `accumulate`)), all float,
// row-major, batch count `batch` with A, B, C contiguous per batch, bias [N] for every row.
// With `bf16` (Precision::kBf16) the product runs on bf16 copies of A and B, accumulating and
// writing float: A (and a non-constant B) are converted per call into the work memory, a
// constant B once, to bf16 in the primitive's packed layout. The single-row GEMV below stays
// float: it streams B once, and bf16 would only halve the bytes at a rounding cost.
// Built once per shape; `constant_b` (when set) is reordered into the primitive's preferred
// layout once and reused on every call. A single row (M = 1, batch 1: a classifier head at
// batch 1) is a matrix-vector product that only streams B, where a oneDNN call's fixed cost
// was most of the time: it runs on Eigen's GEMV over B stored [K, N] (packed so once when
// constant), split over columns between the OpenMP threads when B is large.
class DnnlGemm {
 public:
  struct Spec {
    int64_t batch = 1, m = 1, k = 1, n = 1;
    bool trans_a = false, trans_b = false;
    float alpha = 1.0f;
    bool accumulate = false;
    bool bias = false;  // only with alpha 1: oneDNN scales the bias too
    dnnl::algorithm activation = dnnl::algorithm::undef;  // an eltwise post-op, last
    float activation_alpha = 0.f, activation_beta = 0.f;
    bool bf16 = false;
    auto tie() const {
      return std::tie(batch, m, k, n, trans_a, trans_b, alpha, accumulate, bias, activation, activation_alpha,
                      activation_beta, bf16);
    }
    bool operator<(const Spec& other) const { return tie() < other.tie(); }
  };

  DnnlGemm(const Spec& spec, const float* constant_b);
  // The work memory run() needs.
  size_t scratch_bytes() const { return workspace_.bytes(); }
  // `b` is ignored when a constant B was packed at construction; `scratch` holds
  // scratch_bytes() bytes that no other call uses meanwhile; `bias` ([N]) exactly when the
  // spec asked for one.
  void run(const float* a, const float* b, float* c, void* scratch, const float* bias = nullptr) const;

 private:
  void run_row(const float* a, const float* b, float* c, const float* bias) const;
  // bf16: the primitive's A and B descriptors, and the per-call conversions into them.
  void prepare_bf16_inputs(const dnnl::memory::desc& plain_a, const dnnl::memory::desc& plain_b);
  dnnl::memory bf16_input(const DnnlReorder& reorder, int inner, const dnnl::memory& user, void* scratch) const;

  // One call's memory objects and argument list, made once and pointed at each call's data:
  // creating them (and oneDNN's argument map) per call cost as much as a small matmul itself.
  // Calls may overlap, so each takes a set of its own from the idle ones.
  struct CallArguments {
    dnnl::memory a, b, c, bias, scratchpad;
    std::vector<dnnl_exec_arg_t> list;
  };
  std::unique_ptr<CallArguments> take_arguments() const;

  Spec spec_;
  bool single_row_ = false;          // M = 1: the GEMV path, no primitive
  std::vector<float> rows_of_b_;     // a constant B as [K, N] for the GEMV path
  dnnl::matmul primitive_;
  dnnl::memory::desc a_desc_, b_desc_, c_desc_, bias_desc_;
  dnnl::memory packed_b_;  // empty unless B was constant; only read by calls
  DnnlWorkspace workspace_;
  int scratchpad_ = -1;
  mutable std::mutex idle_arguments_mutex_;
  mutable std::vector<std::unique_ptr<CallArguments>> idle_arguments_;
  dnnl::memory::desc a_user_desc_, b_user_desc_;  // float A and B as callers pass them (bf16 only)
  DnnlReorder a_reorder_, b_reorder_;
  int a_inner_ = -1, b_inner_ = -1;  // bf16 copies in the work memory; -1: none
};

// DnnlGemm by spec. `constant_b` must be the same data on every call (a constant input) or null.
// A bf16 cache (a kernel of a bf16 session) makes every product bf16 where oneDNN has a native
// bf16 kernel for it, float elsewhere.
class DnnlGemmCache {
 public:
  explicit DnnlGemmCache(Precision precision = Precision::kFp32) : bf16_(precision == Precision::kBf16) {}
  std::shared_ptr<const DnnlGemm> get(const DnnlGemm::Spec& spec, const float* constant_b);

 private:
  bool bf16_;
  PrimitiveCache<DnnlGemm::Spec, DnnlGemm> entries_{64};
};

}  // namespace onyx
