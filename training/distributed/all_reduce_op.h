// com.onyx.training::AllReduceSum(x) -> y: y is the sum of x over the ranks of a communicator,
// as a graph node, so that reductions inside a step (synchronized BatchNormalization's batch
// statistics) are part of the graph the session runs. Its gradient is AllReduceSum of the
// output gradient (every rank's loss depends on the sum). The node names its communicator
// by the number register_communicator gave it (attribute `communicator`): graphs cannot hold
// pointers, and the number stays valid while the session that registered it lives.
#pragma once

#include <cstdint>
#include <memory>

#include "training/distributed/communicator.h"

namespace onyx::training::distributed {

inline constexpr const char* kAllReduceSumOp = "AllReduceSum";
inline constexpr const char* kCommunicatorAttribute = "communicator";

int64_t register_communicator(std::shared_ptr<Communicator> communicator);
void unregister_communicator(int64_t id);

}  // namespace onyx::training::distributed
