#include "providers/cpu/linalg/dnnl_util.h"

#include <omp.h>

#include <Eigen/Core>

#include "providers/cpu/activation/fused_activation.h"
#include "providers/cpu/tensor/copy.h"
#include "runtime/common/parallel.h"

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

dnnl::primitive_attr dnnl_attributes() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void require_native_kernel(const dnnl::primitive_desc_base& pd) {
  if (std::string(pd.impl_info_str()).find("ref") != std::string::npos) {
    throw dnnl::error(dnnl_unimplemented, "only oneDNN's reference kernel");
  }
}

void reorder_now(const memory& from, const memory& to) {
  dnnl::reorder::primitive_desc pd(from.get_engine(), from.get_desc(), to.get_engine(), to.get_desc(), dnnl_attributes());
  std::unordered_map<int, memory> args{{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
  if (pd.scratchpad_desc().get_size() > 0) args[DNNL_ARG_SCRATCHPAD] = memory(pd.scratchpad_desc(), from.get_engine());
  dnnl::reorder(pd).execute(dnnl_cpu_stream(), args);
  dnnl_cpu_stream().wait();
}

int DnnlWorkspace::reserve(const memory::desc& desc) {
  const size_t size = desc.get_size();
  if (size == 0) return -1;
  constexpr size_t kAlignment = 64;
  const size_t offset = (bytes_ + kAlignment - 1) / kAlignment * kAlignment;
  parts_.emplace_back(desc, offset);
  bytes_ = offset + size;
  return static_cast<int>(parts_.size()) - 1;
}

memory DnnlWorkspace::at(int index, void* base) const {
  if (index < 0) return memory();
  const auto& [desc, offset] = parts_[static_cast<size_t>(index)];
  return memory(desc, dnnl_cpu_engine(), base ? static_cast<char*>(base) + offset : DNNL_MEMORY_NONE);
}

DnnlReorder::DnnlReorder(const memory::desc& from, const memory::desc& to, DnnlWorkspace& workspace) {
  dnnl::engine& engine = dnnl_cpu_engine();
  dnnl::reorder::primitive_desc pd(engine, from, engine, to, dnnl_attributes());
  primitive_ = dnnl::reorder(pd);
  scratchpad_ = workspace.reserve(pd.scratchpad_desc());
}

void DnnlReorder::execute(dnnl::stream& stream, const memory& from, const memory& to, const DnnlWorkspace& workspace,
                          void* scratch) const {
  std::unordered_map<int, memory> args{{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
  if (scratchpad_ >= 0) args[DNNL_ARG_SCRATCHPAD] = workspace.at(scratchpad_, scratch);
  primitive_.execute(stream, args);
}

namespace {
// Row-major [batch, rows, cols], or its transpose when `trans` (stored as [batch, cols, rows]).
// A batch of one is a 2-D matrix: with a 3-D descriptor oneDNN 2.6's matmul keeps a constant B
// (format_tag::any) plain, with a 2-D one it packs it, and its GEMMs ran 20% faster
// ([64, 1024] x [1024, 4096]: 7.0 -> 5.7 ms).
memory::desc matrix_desc(int64_t batch, int64_t rows, int64_t cols, bool trans,
                         memory::data_type type = memory::data_type::f32) {
  if (batch == 1) return memory::desc({rows, cols}, type, trans ? memory::dims{1, rows} : memory::dims{cols, 1});
  memory::dims dims{batch, rows, cols};
  memory::dims strides = trans ? memory::dims{rows * cols, 1, rows} : memory::dims{rows * cols, cols, 1};
  return memory::desc(dims, type, strides);
}
}  // namespace

DnnlGemm::DnnlGemm(const Spec& spec, const float* constant_b) : spec_(spec) {
  single_row_ = spec.batch == 1 && spec.m == 1 && !spec.trans_a;
  if (single_row_) {
    if (constant_b) {
      // B as [K, N] rows. A transposed B goes through the blocked transpose: the element by
      // element copy read B at a stride of K, a cache miss per element (5 ms, most of
      // MobileNetV2's first run besides its primitives, for its 1280x1000 classifier).
      rows_of_b_.resize(static_cast<size_t>(spec.k * spec.n));
      if (spec.trans_b) {
        transpose_data(DataType::kFloat, constant_b, {spec.n, spec.k}, {1, 0}, rows_of_b_.data(), 1);
      } else {
        std::copy(constant_b, constant_b + spec.k * spec.n, rows_of_b_.begin());
      }
    }
    return;
  }
  a_desc_ = matrix_desc(spec.batch, spec.m, spec.k, spec.trans_a);
  memory::desc plain_b = matrix_desc(spec.batch, spec.k, spec.n, spec.trans_b);
  c_desc_ = matrix_desc(spec.batch, spec.m, spec.n, false);
  const auto b_type = spec.bf16 ? memory::data_type::bf16 : memory::data_type::f32;
  // With a constant B oneDNN may pick its own packed layout; the reorder happens once below.
  const memory::dims b_dims = spec.batch == 1 ? memory::dims{spec.k, spec.n} : memory::dims{spec.batch, spec.k, spec.n};
  memory::desc wanted_b = constant_b ? memory::desc(b_dims, b_type, memory::format_tag::any)
                          : spec.bf16 ? matrix_desc(spec.batch, spec.k, spec.n, false, b_type)
                                      : plain_b;
  if (spec.bf16) prepare_bf16_inputs(a_desc_, plain_b);
  dnnl::primitive_attr attr = dnnl_attributes();
  if (spec.alpha != 1.0f) attr.set_output_scales(0, {spec.alpha});
  dnnl::post_ops ops;
  if (spec.accumulate) ops.append_sum(1.0f);
  if (spec.activation != dnnl::algorithm::undef) {
    ops.append_eltwise(1.f, spec.activation, spec.activation_alpha, spec.activation_beta);
  }
  if (ops.len() > 0) attr.set_post_ops(ops);
  if (spec.bias) {
    bias_desc_ = spec.batch == 1 ? memory::desc({1, spec.n}, memory::data_type::f32, memory::dims{spec.n, 1})
                                 : memory::desc({1, 1, spec.n}, memory::data_type::f32, memory::dims{spec.n, spec.n, 1});
  }
  dnnl::matmul::desc desc = spec.bias ? dnnl::matmul::desc(a_desc_, wanted_b, bias_desc_, c_desc_)
                                      : dnnl::matmul::desc(a_desc_, wanted_b, c_desc_);
  dnnl::matmul::primitive_desc pd(desc, attr, dnnl_cpu_engine());
  if (spec.bf16) require_native_kernel(pd);
  primitive_ = dnnl::matmul(pd);
  b_desc_ = pd.weights_desc();
  scratchpad_ = workspace_.reserve(pd.scratchpad_desc());
  if (spec.bf16 && !constant_b) {
    b_inner_ = workspace_.reserve(b_desc_);
    b_reorder_ = DnnlReorder(b_user_desc_, b_desc_, workspace_);
  }
  if (constant_b) {
    dnnl::engine& engine = dnnl_cpu_engine();
    memory source(plain_b, engine, const_cast<float*>(constant_b));
    packed_b_ = memory(b_desc_, engine);
    reorder_now(source, packed_b_);
  }
}

void DnnlGemm::prepare_bf16_inputs(const memory::desc& plain_a, const memory::desc& plain_b) {
  a_user_desc_ = plain_a;
  b_user_desc_ = plain_b;
  // The primitive reads A as plain row-major bf16: the conversion also undoes a transposition.
  a_desc_ = matrix_desc(spec_.batch, spec_.m, spec_.k, false, memory::data_type::bf16);
  a_inner_ = workspace_.reserve(a_desc_);
  a_reorder_ = DnnlReorder(a_user_desc_, a_desc_, workspace_);
  // B's conversion (for a B that is not constant) follows once the primitive exists.
}

memory DnnlGemm::bf16_input(const DnnlReorder& reorder, int inner, const memory& user, void* scratch) const {
  memory converted = workspace_.at(inner, scratch);
  reorder.execute(dnnl_cpu_stream(), user, converted, workspace_, scratch);
  return converted;
}

void DnnlGemm::run_row(const float* a, const float* b, float* c, const float* bias) const {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Row = Eigen::Matrix<float, 1, Eigen::Dynamic>;
  const int64_t k = spec_.k, n = spec_.n;
  const bool by_rows = !rows_of_b_.empty() || !spec_.trans_b;  // B as [K, N]
  const float* rows = rows_of_b_.empty() ? b : rows_of_b_.data();
  Eigen::Map<const Row> x(a, k);
  // Columns [begin, end) of the result; big products split so that each thread streams its own
  // part of B.
  auto columns = [&](int64_t begin, int64_t end) {
    Eigen::Map<Row> y(c + begin, end - begin);
    Eigen::Map<Eigen::VectorXf> y_column(c + begin, end - begin);
    // Eigen evaluates alpha * product straight into y (no temporary, no allocation).
    if (by_rows) {
      Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>> part(rows + begin, k, end - begin, Eigen::OuterStride<>(n));
      if (spec_.accumulate) y.noalias() += spec_.alpha * (x * part);
      else y.noalias() = spec_.alpha * (x * part);
    } else {
      Eigen::Map<const RowMajor> part(b + begin * k, end - begin, k);  // B stored [N, K]
      if (spec_.accumulate) y_column.noalias() += spec_.alpha * (part * x.transpose());
      else y_column.noalias() = spec_.alpha * (part * x.transpose());
    }
    if (bias) y += Eigen::Map<const Row>(bias + begin, end - begin);
    apply_eltwise(spec_.activation, spec_.activation_alpha, spec_.activation_beta, c + begin, end - begin);
  };
  constexpr int64_t kValuesPerThread = int64_t{1} << 17;  // below that a region costs more than it saves
  const int64_t grain = std::max<int64_t>(16, kValuesPerThread / std::max<int64_t>(k, 1));
  parallel_for(n, grain, omp_get_max_threads(), columns);
}

std::unique_ptr<DnnlGemm::CallArguments> DnnlGemm::take_arguments() const {
  {
    std::lock_guard<std::mutex> lock(idle_arguments_mutex_);
    if (!idle_arguments_.empty()) {
      std::unique_ptr<CallArguments> arguments = std::move(idle_arguments_.back());
      idle_arguments_.pop_back();
      return arguments;
    }
  }
  dnnl::engine& engine = dnnl_cpu_engine();
  auto arguments = std::make_unique<CallArguments>();
  // Made with no buffer (DNNL_MEMORY_NONE); run() points them at each call's data.
  arguments->a = memory(a_desc_, engine, DNNL_MEMORY_NONE);
  arguments->c = memory(c_desc_, engine, DNNL_MEMORY_NONE);
  arguments->b = packed_b_ ? packed_b_ : memory(b_desc_, engine, DNNL_MEMORY_NONE);
  arguments->list = {{DNNL_ARG_SRC, arguments->a.get()}, {DNNL_ARG_WEIGHTS, arguments->b.get()},
                     {DNNL_ARG_DST, arguments->c.get()}};
  if (scratchpad_ >= 0) {
    arguments->scratchpad = workspace_.at(scratchpad_, nullptr);
    arguments->list.push_back({DNNL_ARG_SCRATCHPAD, arguments->scratchpad.get()});
  }
  if (spec_.bias) {
    arguments->bias = memory(bias_desc_, engine, DNNL_MEMORY_NONE);
    arguments->list.push_back({DNNL_ARG_BIAS, arguments->bias.get()});
  }
  return arguments;
}

void DnnlGemm::run(const float* a, const float* b, float* c, void* scratch, const float* bias) const {
  if (single_row_) return run_row(a, b, c, bias);
  std::unique_ptr<CallArguments> arguments = take_arguments();
  if (spec_.bf16) {  // A (and a B that is not constant) converted into the call's work memory
    dnnl::engine& engine = dnnl_cpu_engine();
    memory a_user(a_user_desc_, engine, const_cast<float*>(a));
    arguments->a.set_data_handle(bf16_input(a_reorder_, a_inner_, a_user, scratch).get_data_handle());
    if (!packed_b_) {
      memory b_user(b_user_desc_, engine, const_cast<float*>(b));
      arguments->b.set_data_handle(bf16_input(b_reorder_, b_inner_, b_user, scratch).get_data_handle());
    }
  } else {
    arguments->a.set_data_handle(const_cast<float*>(a));
    if (!packed_b_) arguments->b.set_data_handle(const_cast<float*>(b));
  }
  arguments->c.set_data_handle(c);
  if (scratchpad_ >= 0) arguments->scratchpad.set_data_handle(static_cast<char*>(scratch) + workspace_.offset(scratchpad_));
  if (spec_.bias) arguments->bias.set_data_handle(const_cast<float*>(bias));
  dnnl::stream& stream = dnnl_cpu_stream();
  dnnl::error::wrap_c_api(dnnl_primitive_execute(primitive_.get(), stream.get(), static_cast<int>(arguments->list.size()),
                                                 arguments->list.data()),
                          "could not execute a matmul");
  stream.wait();
  std::lock_guard<std::mutex> lock(idle_arguments_mutex_);
  idle_arguments_.push_back(std::move(arguments));
}

std::shared_ptr<const DnnlGemm> DnnlGemmCache::get(const DnnlGemm::Spec& spec, const float* constant_b) {
  return entries_.get(spec, [&] {
    if (bf16_) {
      DnnlGemm::Spec bf16_spec = spec;
      bf16_spec.bf16 = true;
      try {
        return std::make_shared<DnnlGemm>(bf16_spec, constant_b);
      } catch (const dnnl::error&) {
      }
    }
    return std::make_shared<DnnlGemm>(spec, constant_b);
  });
}

}  // namespace onyx
