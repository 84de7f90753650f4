#include "training/distributed/gradient_buckets.h"

#include <cstring>
#include <memory>

#include "runtime/common/error.h"

namespace onyx::training::distributed {

std::vector<GradientBucket> plan_gradient_buckets(const std::vector<BucketedTensor>& tensors, size_t bucket_bytes) {
  std::vector<GradientBucket> buckets;
  size_t bytes = 0;
  for (const BucketedTensor& tensor : tensors) {
    const size_t tensor_bytes = dtype_storage_bytes(tensor.type, static_cast<int64_t>(tensor.elements));
    const bool fits = !buckets.empty() && buckets.back().type == tensor.type && bytes + tensor_bytes <= bucket_bytes;
    if (!fits) {
      buckets.push_back({tensor.type, {}, {}, 0});
      bytes = 0;
    }
    buckets.back().names.push_back(tensor.name);
    buckets.back().counts.push_back(tensor.elements);
    buckets.back().elements += tensor.elements;
    bytes += tensor_bytes;
  }
  return buckets;
}

namespace {

template <typename T>
void unpack_scaled(const T* packed, const GradientBucket& bucket, std::map<std::string, Tensor>& gradients,
                   double scale) {
  const T factor = static_cast<T>(scale);
  for (const std::string& name : bucket.names) {
    Tensor& gradient = gradients.at(name);
    // A new tensor: the old one may be a session output that something else still shares.
    Tensor averaged(gradient.dtype(), gradient.shape());
    T* out = averaged.mutable_data<T>();
    const int64_t n = gradient.element_count();
    for (int64_t i = 0; i < n; ++i) out[i] = packed[i] * factor;
    packed += n;
    gradient = std::move(averaged);
  }
}

void unpack_bucket(const void* packed, const GradientBucket& bucket, std::map<std::string, Tensor>& gradients,
                   double scale) {
  if (bucket.type == DataType::kFloat) {
    unpack_scaled(static_cast<const float*>(packed), bucket, gradients, scale);
  } else if (bucket.type == DataType::kDouble) {
    unpack_scaled(static_cast<const double*>(packed), bucket, gradients, scale);
  } else {
    throw_error(ErrorCode::kNotImplemented, "averaging ", dtype_name(bucket.type),
                " gradients over ranks (float and double are supported)");
  }
}

}  // namespace

void all_reduce_gradients(Communicator& communicator, const std::vector<GradientBucket>& buckets,
                          std::map<std::string, Tensor>& gradients, double scale) {
  OverlappedGradientReduction reduction(communicator, buckets);
  reduction.start_all(gradients);
  reduction.finish(gradients, scale);
}

OverlappedGradientReduction::OverlappedGradientReduction(Communicator& communicator,
                                                         const std::vector<GradientBucket>& buckets)
    : communicator_(communicator), buckets_(buckets), state_(buckets.size()) {
  for (size_t b = 0; b < buckets_.size(); ++b) {
    const GradientBucket& bucket = buckets_[b];
    size_t offset = 0;
    for (size_t i = 0; i < bucket.names.size(); ++i) {
      places_[bucket.names[i]] = {b, i};
      state_[b].offsets.push_back(offset);
      offset += dtype_storage_bytes(bucket.type, static_cast<int64_t>(bucket.counts[i]));
    }
    state_[b].buffer = std::make_unique<char[]>(offset);
  }
}

OverlappedGradientReduction::~OverlappedGradientReduction() {
  for (Bucket& bucket : state_) bucket.reduction.reset();  // each waits for itself
}

std::optional<OverlappedGradientReduction::Place> OverlappedGradientReduction::locate(const std::string& name) const {
  auto found = places_.find(name);
  if (found == places_.end()) return std::nullopt;
  return found->second;
}

void OverlappedGradientReduction::begin() {
  ONYX_CHECK(!in_flight_, ErrorCode::kRuntimeFailure, "a gradient reduction began before the last one ended");
  for (size_t b = 0; b < buckets_.size(); ++b) {
    state_[b].ready.assign(buckets_[b].names.size(), false);
    state_[b].missing = buckets_[b].names.size();
    state_[b].reduction.reset();
  }
  next_to_start_ = 0;
  in_flight_ = true;
}

void OverlappedGradientReduction::gradient_ready(Place place, const Tensor& gradient) {
  const GradientBucket& bucket = buckets_.at(place.bucket);
  Bucket& state = state_[place.bucket];
  const std::string& name = bucket.names.at(place.index);
  ONYX_CHECK(!state.ready[place.index], ErrorCode::kRuntimeFailure, "the gradient of '", name,
             "' was reported twice in one backward pass");
  ONYX_CHECK(gradient.dtype() == bucket.type, ErrorCode::kRuntimeFailure, "the gradient of '", name, "' is ",
             dtype_name(gradient.dtype()), ", its bucket holds ", dtype_name(bucket.type));
  ONYX_CHECK(static_cast<size_t>(gradient.element_count()) == bucket.counts[place.index], ErrorCode::kRuntimeFailure,
             "the gradient of '", name, "' has ", gradient.element_count(), " elements, ", bucket.counts[place.index],
             " were planned");
  if (gradient.byte_size()) std::memcpy(state.buffer.get() + state.offsets[place.index], gradient.raw_data(), gradient.byte_size());
  state.ready[place.index] = true;
  --state.missing;
  start_ready_buckets();
}

void OverlappedGradientReduction::start_ready_buckets() {
  while (next_to_start_ < buckets_.size() && state_[next_to_start_].missing == 0) {
    const GradientBucket& bucket = buckets_[next_to_start_];
    state_[next_to_start_].reduction =
        communicator_.start_all_reduce_sum(state_[next_to_start_].buffer.get(), bucket.elements, bucket.type);
    ++next_to_start_;
  }
}

void OverlappedGradientReduction::start_all(const std::map<std::string, Tensor>& gradients) {
  for (const GradientBucket& bucket : buckets_) {
    for (const std::string& name : bucket.names) {
      ONYX_CHECK(gradients.count(name), ErrorCode::kRuntimeFailure, "no gradient of '", name,
                 "' to average over ranks (call backward first)");
    }
  }
  begin();
  for (size_t b = 0; b < buckets_.size(); ++b) {
    for (size_t i = 0; i < buckets_[b].names.size(); ++i) gradient_ready({b, i}, gradients.at(buckets_[b].names[i]));
  }
}

void OverlappedGradientReduction::progress() {
  if (in_flight_ && next_to_start_ > 0) communicator_.progress();
}

void OverlappedGradientReduction::finish(std::map<std::string, Tensor>& gradients, double scale) {
  ONYX_CHECK(in_flight_, ErrorCode::kRuntimeFailure, "no gradient reduction in flight to finish");
  for (size_t b = next_to_start_; b < buckets_.size(); ++b) {
    for (size_t i = 0; i < buckets_[b].names.size(); ++i) {
      ONYX_CHECK(state_[b].ready[i], ErrorCode::kRuntimeFailure, "the backward pass did not report the gradient of '",
                 buckets_[b].names[i], "'");
    }
  }
  in_flight_ = false;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    state_[b].reduction->wait();
    state_[b].reduction.reset();
    unpack_bucket(state_[b].buffer.get(), buckets_[b], gradients, scale);
  }
}

void OverlappedGradientReduction::discard() {
  // Started collectives must still complete on every rank; what was not started never will be
  // (every rank discards at the same point).
  for (size_t b = 0; b < next_to_start_; ++b) {
    if (state_[b].reduction) state_[b].reduction->wait();
    state_[b].reduction.reset();
  }
  in_flight_ = false;
}

}  // namespace onyx::training::distributed
