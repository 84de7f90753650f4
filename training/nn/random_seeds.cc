#include "training/nn/random_seeds.h"

#include "runtime/eager/trace.h"

namespace onyx::nn {

namespace {
thread_local TracedSeeds* current_traced_seeds = nullptr;
}

Tensor draw_seed(portable_random::Engine& engine) { return Tensor::scalar<int64_t>(static_cast<int64_t>(engine() >> 1)); }

Tensor seed_tensor(portable_random::Engine& engine) {
  if (current_traced_seeds != nullptr && eager::current_trace() != nullptr) return current_traced_seeds->add(engine);
  return draw_seed(engine);
}

TracedSeeds::TracedSeeds(eager::TraceContext& trace) : trace_(trace), previous_(current_traced_seeds) {
  current_traced_seeds = this;
}

TracedSeeds::~TracedSeeds() { current_traced_seeds = previous_; }

Tensor TracedSeeds::add(portable_random::Engine& engine) {
  std::string name = "dropout_seed_" + std::to_string(feeds_.size());
  feeds_.push_back({name, &engine});
  return trace_.add_input(name, TypeInfo::tensor(DataType::kInt64, std::vector<Dim>{}));
}

}  // namespace onyx::nn
