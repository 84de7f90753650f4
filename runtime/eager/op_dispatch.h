// Eager op calls: one ONNX op run on tensors through the same kernel the graph runtime uses.
// A call resolves and creates its kernel once per (op, opset, provider, input dtypes and ranks,
// attributes, output count, threads) and keeps it in a per-thread cache, so the steady-state
// cost of a call is a hash lookup, the kernel's compute and pooled output allocations.
//
// Inside a trace (trace.h) the same call records a node instead of running it, and every
// recording GradientTape (gradient_tape.h) remembers it: one entry point for all three modes.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "runtime/ir/attribute.h"
#include "runtime/tensor/value.h"

namespace onyx {
class Kernel;
}

namespace onyx::eager {

// An op resolved once: canonical domain, type and the opset its calls use. Wrappers keep one
// in a function-local static; `intern` serves callers that name ops at run time.
class OpHandle {
 public:
  // `opset` 0: default_opset(domain) (for a custom domain, the newest registered version).
  OpHandle(const std::string& domain, std::string op_type, int64_t opset = 0);
  static const OpHandle& intern(const std::string& domain, const std::string& op_type, int64_t opset = 0);

  const std::string& domain() const { return domain_; }
  const std::string& op_type() const { return op_type_; }
  int64_t opset() const { return opset_; }
  // "Add (ai.onnx, opset 28)": how eager errors name the op.
  std::string describe() const;
  // Equal for handles of the same (domain, op, opset), wherever they were made: the kernel
  // cache's key.
  const void* id() const { return id_; }

 private:
  std::string domain_;
  std::string op_type_;
  int64_t opset_;
  const void* id_;
};

// The opset eager calls use for a domain: the newest onyx knows for the ONNX domains.
int64_t default_opset(const std::string& domain);

// Intra-op threads of eager kernels (default: the OpenMP default, one per core).
void set_intra_op_threads(int threads);
int intra_op_threads();

// Runs (or, inside a trace, records) the op. Inputs: Values of kind none, or undefined tensors,
// are omitted optional inputs. Returns `output_count` outputs (none where the kernel left an
// optional output unset).
std::vector<Value> call_values(const OpHandle& op, std::vector<Value> inputs,
                               std::span<const Attribute> attributes, size_t output_count);
// Tensor forms: `inputs` point at the caller's tensors (null or undefined: omitted).
std::vector<Tensor> call(const OpHandle& op, std::span<const Tensor* const> inputs,
                         std::span<const Attribute> attributes, size_t output_count);
Tensor call_one(const OpHandle& op, std::initializer_list<const Tensor*> inputs,
                std::span<const Attribute> attributes = {});

// Kernel cache statistics of the calling thread, for tests and the benchmark.
struct DispatchStats {
  size_t hits = 0;
  size_t misses = 0;
  size_t cached_kernels = 0;
};
DispatchStats dispatch_stats();
void clear_kernel_cache();
// The cached kernel object a call with these inputs would run (created if needed): tests
// check that repeated calls reuse one kernel.
const Kernel* cached_kernel_for(const OpHandle& op, std::span<const Tensor* const> inputs,
                                std::span<const Attribute> attributes, size_t output_count);

}  // namespace onyx::eager
