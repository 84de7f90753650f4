// Arena layouts for the input shapes a plan meets at run time.
//
// A model exported with symbolic dimensions (batch, height, width) has few values whose size
// type inference can fix, so the session-time MemoryPlan leaves them to the caching allocator:
// every run then scatters its intermediates over blocks picked per size class, and what a
// convolution just wrote is rarely where the next one's output goes, so caches and TLBs
// work against the run. Once a run with given input shapes has finished, the sizes its values
// took are known; the next run with the same shapes gets a MemoryPlan for exactly those sizes,
// with the same liveness-based reuse as a static model (onnxruntime's "memory pattern").
//
// A size is a record, not a promise: a value that comes out larger on a later run (a NonZero,
// a data-dependent Reshape) does not fit its planned buffer and is allocated as before.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "runtime/session/memory_plan.h"
#include "runtime/tensor/value.h"

namespace onyx {

class ShapeSpecializedMemory {
 public:
  // One recorded layout: the input shapes it is for, the plan and its arenas.
  struct Layout {
    Layout(std::vector<int64_t> signature, MemoryPlan plan, std::shared_ptr<Allocator> allocator)
        : signature(std::move(signature)), plan(std::move(plan)), arenas(std::move(allocator), this->plan.arena_bytes()) {}
    std::vector<int64_t> signature;
    MemoryPlan plan;
    mutable ArenaPool arenas;
  };
  // More input-shape combinations than this and later ones run as before (nothing recorded):
  // a model fed a new shape every run should not collect arenas.
  static constexpr size_t kMaxLayouts = 8;

  ShapeSpecializedMemory() = default;
  // `fixed`: the values with static sizes (planned at session creation as well); `sized_at_run_time`:
  // the values whose sizes runs record (their `bytes` ignored). Both as MemoryPlan takes them.
  ShapeSpecializedMemory(int slot_count, std::vector<ValueLifetime> fixed, std::vector<ValueLifetime> sized_at_run_time,
                         std::vector<int> recycled_slots, std::shared_ptr<Allocator> allocator);

  // False when every value's size is known at session creation: nothing to specialize.
  bool enabled() const { return !sized_at_run_time_.empty(); }
  // Writes the shapes (and element types) of `inputs` to `signature`; false when an input is not
  // a tensor (a sequence's sizes are not in its own shape): such runs are not specialized.
  static bool signature_of(std::span<const Value> inputs, std::vector<int64_t>& signature);
  // The layout recorded for `signature`, or null.
  std::shared_ptr<const Layout> find(const std::vector<int64_t>& signature) const;
  // Records a finished run as the layout for `signature`: `sizes[slot]` is the bytes the slot's
  // value took (0: none allocated), `views[slot]` the input slot whose buffer its value viewed
  // (-1: none). A view's source keeps its bytes until the view's last reader, so the view is
  // not copied out of the arena. Null once kMaxLayouts are held; a signature recorded twice
  // (two frames at once) keeps the first layout.
  std::shared_ptr<const Layout> record(const std::vector<int64_t>& signature, const std::vector<size_t>& sizes,
                                       const std::vector<int>& views);
  size_t layout_count() const;
  // The most recently recorded layout (null: none), for reports such as `onyx bench`'s.
  std::shared_ptr<const Layout> latest() const;

 private:
  int slot_count_ = 0;
  std::vector<ValueLifetime> fixed_, sized_at_run_time_;
  std::vector<int> recycled_slots_;
  std::shared_ptr<Allocator> allocator_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<const Layout>> layouts_;
};

}  // namespace onyx
