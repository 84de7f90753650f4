// Seeds of random layers (Dropout). Eagerly a seed is a fresh int64 drawn from the layer's
// generator. While a training step is traced (TracedSeeds alive on this thread) a constant
// would freeze one mask into the graph, so the seed becomes a graph input instead, and the
// traced step feeds a fresh draw from the same generator at every run: the traced step and
// the eager one draw the same masks.
#pragma once

#include <string>
#include <vector>

#include "runtime/common/portable_random.h"
#include "runtime/tensor/tensor.h"

namespace onyx::eager {
class TraceContext;
}

namespace onyx::nn {

Tensor seed_tensor(portable_random::Engine& engine);

class TracedSeeds {
 public:
  struct Feed {
    std::string input;                 // the graph input's name
    portable_random::Engine* engine;   // the layer's generator (the module outlives the step)
  };
  explicit TracedSeeds(eager::TraceContext& trace);
  ~TracedSeeds();
  TracedSeeds(const TracedSeeds&) = delete;
  TracedSeeds& operator=(const TracedSeeds&) = delete;

  const std::vector<Feed>& feeds() const { return feeds_; }
  Tensor add(portable_random::Engine& engine);

 private:
  eager::TraceContext& trace_;
  TracedSeeds* previous_;
  std::vector<Feed> feeds_;
};

// One draw, as the eager path makes it.
Tensor draw_seed(portable_random::Engine& engine);

}  // namespace onyx::nn
