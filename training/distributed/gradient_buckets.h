// Gradient averaging in buckets, as PyTorch DDP and Horovod do it: gradients are packed into a
// few contiguous buffers of about `bucket_bytes` each, so each all-reduce is large enough to run
// at the network's bandwidth, and bucket k+1 is packed while bucket k is on the wire.
// Buckets follow the order the backward pass produces gradients in (TrainingSession asks its
// plan), one element type per bucket. OverlappedGradientReduction starts each bucket's
// all-reduce as soon as its last gradient is made, while the backward pass goes on;
// all_reduce_gradients does them all at once (the same class, all buckets started together).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/tensor/tensor.h"
#include "training/distributed/communicator.h"

namespace onyx::training::distributed {

struct GradientBucket {
  DataType type = DataType::kFloat;
  std::vector<std::string> names;  // in packing order
  std::vector<size_t> counts;      // elements, per name
  size_t elements = 0;
};

struct BucketedTensor {
  std::string name;
  DataType type;
  size_t elements;
};

// Splits `tensors` (in the order gradients become ready) into buckets: a new bucket starts when
// the element type changes or the current one would pass `bucket_bytes` (a tensor larger than
// that gets a bucket of its own).
std::vector<GradientBucket> plan_gradient_buckets(const std::vector<BucketedTensor>& tensors, size_t bucket_bytes);

// Replaces each gradient in `gradients` by sum over ranks times `scale` (1/size: the mean).
// Every rank must hold the same names, types and shapes (checked once per plan by the caller).
void all_reduce_gradients(Communicator& communicator, const std::vector<GradientBucket>& buckets,
                          std::map<std::string, Tensor>& gradients, double scale);

// The buckets' all-reduces of one backward pass, started while it runs: the pass reports each
// gradient as it becomes final (gradient_ready, with its bucket and place in it, from locate),
// the gradient is copied into its bucket's buffer, and when a bucket is full its all-reduce
// starts, buckets strictly in order (every rank starts the same collectives in the same
// order). progress() between backward nodes lets MPI move them on. finish() waits for all and
// replaces each gradient by the mean; discard() waits and drops them (the pass's gradients were
// accumulated further or thrown away). start_all() instead packs and starts every bucket at
// once, after the pass (accumulated gradients). The buffers are kept from one step to the next
// (allocating and zeroing them per call cost an 814 KB MLP more than its all-reduce).
class OverlappedGradientReduction {
 public:
  OverlappedGradientReduction(Communicator& communicator, const std::vector<GradientBucket>& buckets);
  ~OverlappedGradientReduction();  // waits for what is in flight (its buffers go)

  struct Place {
    size_t bucket = 0, index = 0;  // buckets[bucket].names[index]
  };
  // Where `name`'s gradient goes; nullopt when no bucket holds it.
  std::optional<Place> locate(const std::string& name) const;

  // A new pass: forgets the previous one's state (which must be finished or discarded).
  void begin();
  void gradient_ready(Place place, const Tensor& gradient);
  void progress();
  // Buckets started in this pass (all of them once every gradient was reported).
  size_t started() const { return next_to_start_; }
  bool all_started() const { return next_to_start_ == buckets_.size(); }
  bool in_flight() const { return in_flight_; }
  // begin() and gradient_ready() for every gradient in `gradients` (all planned ones must be
  // there: "call backward first" otherwise).
  void start_all(const std::map<std::string, Tensor>& gradients);
  // Waits for all (every gradient must have been reported),
  // and replaces each gradient in `gradients` by its sum over ranks times `scale`.
  void finish(std::map<std::string, Tensor>& gradients, double scale);
  void discard();

 private:
  struct Bucket {
    std::unique_ptr<char[]> buffer;
    std::vector<size_t> offsets;  // bytes, per name
    std::vector<bool> ready;
    size_t missing = 0;
    std::unique_ptr<PendingReduction> reduction;
  };
  void start_ready_buckets();

  Communicator& communicator_;
  const std::vector<GradientBucket>& buckets_;
  std::map<std::string, Place> places_;
  std::vector<Bucket> state_;
  size_t next_to_start_ = 0;
  bool in_flight_ = false;  // begun and not yet finished or discarded
};

}  // namespace onyx::training::distributed
