// A Loop body run in place: when every node is an elementwise op on the CPU (arithmetic,
// comparisons, logic, Cast, Identity, Where, Clip, ...) and every value the body handles is a
// small tensor whose element type and shape are known at session creation (the body's inputs
// from their declarations, checked against each run's values; each node's output from its
// inputs by the op's broadcast rule), the Loop skips the general plan's per-iteration work (moving Values in and out,
// a fresh iteration-number tensor, output recycling, arena checks, releases). Each value gets
// a fixed buffer for the whole Loop run; the plan's own kernels write their outputs there (an
// allocator that hands out those buffers), loop-carried state is copied back into the body's
// input buffers between iterations, and scan outputs are appended to flat byte buffers. The
// results are the general path's bit for bit: the same kernels run on the same bytes in the
// same order.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "providers/kernel.h"
#include "runtime/session/execution_plan.h"

namespace onyx {

class InPlaceLoopBody {
 public:
  // Values above this size gain little from the fast path (their kernels' work dominates) and
  // would make copying the state between iterations cost more than it saves.
  static constexpr size_t kMaxValueBytes = 4096;

  // The in-place form of a Loop body plan with `carried` loop-carried values, or null when the
  // body does not qualify (the Loop then runs the general plan).
  static std::unique_ptr<InPlaceLoopBody> compile(const ExecutionPlan& plan, size_t carried);

  // True when this run's body inputs (in the plan's input order: the iteration number and
  // condition, ignored here, the initial loop-carried values, then the outer values) have the
  // element types and shapes the body was compiled for, on the host.
  bool accepts(std::span<const Value> inputs) const;

  // Runs the loop on `inputs` (accepted) and writes the Loop node's outputs to `context`: the
  // final loop-carried values, then the stacked scan outputs when at least one iteration ran.
  // Returns the number of iterations run (with none, the caller writes the empty scan outputs).
  int64_t run(KernelContext& context, std::span<const Value> inputs, int64_t max_trips, bool condition) const;

  // Loop runs that took this path, process-wide: tests check that a body they expect to
  // qualify does.
  static int64_t runs();

 private:
  struct Buffer {  // a value with a buffer of its own in the run's memory
    int slot;
    DataType dtype;
    Shape shape;
    size_t offset;
    size_t bytes;
  };
  struct Transfer {  // a loop-carried value from the body's output back to its input
    int from;        // slot of the body output
    int to;          // slot of the body input
    size_t bytes;
    bool staged;     // the output is itself a body input, which another transfer may overwrite
    size_t staging_offset;
  };
  struct Scan {
    int slot;
    DataType dtype;
    Shape item_shape;
    size_t bytes;
  };
  struct Expected {  // an input the caller passes, checked by accepts()
    size_t input;    // index in the plan's inputs
    DataType dtype;
    Shape shape;
  };
  class Run;

  explicit InPlaceLoopBody(const ExecutionPlan& plan) : plan_(plan) {}

  const ExecutionPlan& plan_;
  std::vector<Buffer> buffers_;
  size_t memory_bytes_ = 0;
  std::vector<const PlanStep*> steps_;
  int iteration_slot_ = -1;
  int condition_in_slot_ = -1;
  int condition_out_slot_ = -1;
  bool condition_is_bool_ = false;  // read in place; other types through scalar_truth
  std::vector<int> carried_in_slots_;
  std::vector<Transfer> transfers_;
  std::vector<Scan> scans_;
  std::vector<Expected> expected_;
};

}  // namespace onyx
