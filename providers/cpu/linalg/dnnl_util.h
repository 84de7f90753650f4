// oneDNN plumbing shared by the CPU linalg and nn kernels: one engine for the process, a stream
// per thread, and a cached fp32 GEMM primitive. oneDNN runs on the same OpenMP pool as
// parallel_for, so no other threads are involved.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include <oneapi/dnnl/dnnl.hpp>

namespace onyx {

dnnl::engine& dnnl_cpu_engine();
dnnl::stream& dnnl_cpu_stream();  // thread_local: streams are not thread-safe

// C[b] = alpha * op(A[b]) * op(B[b]) (+ C[b] when `accumulate`), all float, row-major, batch
// count `batch` with A, B, C contiguous per batch. Built once per shape; `constant_b` (when set)
// is reordered into the primitive's preferred layout once and reused on every call.
class DnnlGemm {
 public:
  struct Spec {
    int64_t batch = 1, m = 1, k = 1, n = 1;
    bool trans_a = false, trans_b = false;
    float alpha = 1.0f;
    bool accumulate = false;
    auto tie() const { return std::tie(batch, m, k, n, trans_a, trans_b, alpha, accumulate); }
    bool operator<(const Spec& other) const { return tie() < other.tie(); }
  };

  DnnlGemm(const Spec& spec, const float* constant_b);
  // `b` is ignored when a constant B was packed at construction.
  void run(const float* a, const float* b, float* c) const;

 private:
  Spec spec_;
  dnnl::matmul primitive_;
  dnnl::memory::desc a_desc_, b_desc_, c_desc_;
  dnnl::memory packed_b_;  // empty unless B was constant
};

// A small thread-safe cache of DnnlGemm by spec, for kernels whose shapes vary between runs.
class DnnlGemmCache {
 public:
  // `constant_b` must be the same data on every call (a constant input) or null.
  const DnnlGemm& get(const DnnlGemm::Spec& spec, const float* constant_b);

 private:
  std::mutex mutex_;
  std::map<DnnlGemm::Spec, std::unique_ptr<DnnlGemm>> entries_;
};

}  // namespace onyx
