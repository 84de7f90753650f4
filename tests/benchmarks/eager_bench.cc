// Eager dispatch cost: a small Add (4 floats) called as an eager op, against the same cached
// kernel's compute alone writing into a preallocated output (what a graph step costs). Counter
// `overhead_ns` is the difference: cache lookup, frame, pooled output allocation, result.
// Counters are thread CPU time.
#include <benchmark/benchmark.h>

#include <ctime>

#include "providers/kernel.h"
#include "runtime/eager/eager.h"
#include "runtime/eager/op_dispatch.h"

namespace onyx {
namespace {

// Thread CPU time: the counters stay meaningful when other processes share the cores.
double thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

class PreallocatedOutput final : public OutputAllocator {
 public:
  explicit PreallocatedOutput(Tensor tensor) : tensor_(std::move(tensor)) {}
  Tensor allocate(int, DataType, const Shape&) override { return tensor_; }

 private:
  Tensor tensor_;
};

double kernel_only_ns(const Tensor& a, const Tensor& b) {
  static const eager::OpHandle add("", "Add");
  const Tensor* inputs[] = {&a, &b};
  auto* kernel = const_cast<Kernel*>(eager::cached_kernel_for(add, inputs, {}, 1));
  Value frame[3] = {a, b, Value()};
  const int input_slots[] = {0, 1};
  const int output_slots[] = {2};
  PreallocatedOutput output(Tensor(DataType::kFloat, a.shape()));
  const int calls = 200000;
  double start = thread_cpu_ns();
  for (int i = 0; i < calls; ++i) {
    KernelContext context(frame, input_slots, output_slots, output, 1);
    kernel->compute(context);
  }
  return (thread_cpu_ns() - start) / calls;
}

void BM_Eager_SmallAdd(benchmark::State& state) {
  eager::set_intra_op_threads(1);
  Tensor a = Tensor::from_vector<float>({4}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<float>({4}, {1, 1, 1, 1});
  double kernel_ns = kernel_only_ns(a, b);
  for (auto _ : state) {
    Tensor c = a + b;
    benchmark::DoNotOptimize(c.raw_data());
  }
  double per_call_ns = 0;
  {
    const int calls = 200000;
    double start = thread_cpu_ns();
    for (int i = 0; i < calls; ++i) benchmark::DoNotOptimize((a + b).raw_data());
    per_call_ns = (thread_cpu_ns() - start) / calls;
  }
  state.counters["call_ns"] = per_call_ns;
  state.counters["kernel_ns"] = kernel_ns;
  state.counters["overhead_ns"] = per_call_ns - kernel_ns;
}
BENCHMARK(BM_Eager_SmallAdd);

// A traced function call: the session run around a one-node graph (feeds map, plan walk).
void BM_Eager_TracedSmallAdd(benchmark::State& state) {
  FunctionOptions options;
  options.session.intra_op_threads = 1;
  auto add = onyx::function([](const Tensor& a, const Tensor& b) { return a + b; }, options);
  Tensor a = Tensor::from_vector<float>({4}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<float>({4}, {1, 1, 1, 1});
  (void)add(a, b);
  for (auto _ : state) benchmark::DoNotOptimize(add(a, b).raw_data());
}
BENCHMARK(BM_Eager_TracedSmallAdd);

}  // namespace
}  // namespace onyx
