#include "providers/cpu/linalg/dnnl_util.h"

namespace onyx {

using dnnl::memory;

dnnl::engine& dnnl_cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& dnnl_cpu_stream() {
  thread_local dnnl::stream stream(dnnl_cpu_engine());
  return stream;
}

namespace {
// Row-major [batch, rows, cols], or its transpose when `trans` (stored as [batch, cols, rows]).
memory::desc matrix_desc(int64_t batch, int64_t rows, int64_t cols, bool trans) {
  memory::dims dims{batch, rows, cols};
  memory::dims strides = trans ? memory::dims{rows * cols, 1, rows} : memory::dims{rows * cols, cols, 1};
  return memory::desc(dims, memory::data_type::f32, strides);
}
}  // namespace

DnnlGemm::DnnlGemm(const Spec& spec, const float* constant_b) : spec_(spec) {
  a_desc_ = matrix_desc(spec.batch, spec.m, spec.k, spec.trans_a);
  memory::desc plain_b = matrix_desc(spec.batch, spec.k, spec.n, spec.trans_b);
  c_desc_ = matrix_desc(spec.batch, spec.m, spec.n, false);
  // With a constant B oneDNN may pick its own packed layout; the reorder happens once below.
  memory::desc wanted_b =
      constant_b ? memory::desc({spec.batch, spec.k, spec.n}, memory::data_type::f32,
                                memory::format_tag::any)
                 : plain_b;
  dnnl::primitive_attr attr;
  if (spec.alpha != 1.0f) attr.set_output_scales(0, {spec.alpha});
  if (spec.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::desc desc(a_desc_, wanted_b, c_desc_);
  dnnl::matmul::primitive_desc pd(desc, attr, dnnl_cpu_engine());
  primitive_ = dnnl::matmul(pd);
  b_desc_ = pd.weights_desc();
  if (constant_b) {
    dnnl::engine& engine = dnnl_cpu_engine();
    memory source(plain_b, engine, const_cast<float*>(constant_b));
    packed_b_ = memory(b_desc_, engine);
    dnnl::reorder(source, packed_b_).execute(dnnl_cpu_stream(), source, packed_b_);
    dnnl_cpu_stream().wait();
  }
}

void DnnlGemm::run(const float* a, const float* b, float* c) const {
  dnnl::engine& engine = dnnl_cpu_engine();
  memory a_mem(a_desc_, engine, const_cast<float*>(a));
  memory c_mem(c_desc_, engine, c);
  memory b_mem = packed_b_ ? packed_b_ : memory(b_desc_, engine, const_cast<float*>(b));
  dnnl::stream& stream = dnnl_cpu_stream();
  primitive_.execute(stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
  stream.wait();
}

const DnnlGemm& DnnlGemmCache::get(const DnnlGemm::Spec& spec, const float* constant_b) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(spec);
  if (it == entries_.end()) {
    // Bounded: a model feeding ever-new shapes should not grow memory without limit.
    if (entries_.size() >= 64) entries_.clear();
    it = entries_.emplace(spec, std::make_unique<DnnlGemm>(spec, constant_b)).first;
  }
  return *it->second;
}

}  // namespace onyx
