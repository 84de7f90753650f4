// Gradient averaging in buckets, as PyTorch DDP and Horovod do it: gradients are packed into a
// few contiguous buffers of about `bucket_bytes` each, so each all-reduce is large enough to run
// at the network's bandwidth, and bucket k+1 is packed while bucket k is on the wire.
// Buckets follow the reverse of the parameters' order (roughly the order the backward pass
// produces gradients in), one element type per bucket.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/tensor/tensor.h"
#include "training/distributed/communicator.h"

namespace onyx::training::distributed {

struct GradientBucket {
  DataType type = DataType::kFloat;
  std::vector<std::string> names;  // in packing order
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

}  // namespace onyx::training::distributed
