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
      buckets.push_back({tensor.type, {}, 0});
      bytes = 0;
    }
    buckets.back().names.push_back(tensor.name);
    buckets.back().elements += tensor.elements;
    bytes += tensor_bytes;
  }
  return buckets;
}

namespace {

// One bucket on the wire: its packed buffer and the reduction in flight.
struct BucketInFlight {
  std::unique_ptr<char[]> buffer;
  std::unique_ptr<PendingReduction> reduction;
};

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

}  // namespace

void all_reduce_gradients(Communicator& communicator, const std::vector<GradientBucket>& buckets,
                          std::map<std::string, Tensor>& gradients, double scale) {
  std::vector<BucketInFlight> in_flight(buckets.size());
  for (size_t b = 0; b < buckets.size(); ++b) {
    const GradientBucket& bucket = buckets[b];
    const size_t bytes = dtype_storage_bytes(bucket.type, static_cast<int64_t>(bucket.elements));
    in_flight[b].buffer = std::make_unique<char[]>(bytes);
    char* cursor = in_flight[b].buffer.get();
    for (const std::string& name : bucket.names) {
      auto found = gradients.find(name);
      ONYX_CHECK(found != gradients.end(), ErrorCode::kRuntimeFailure, "no gradient of '", name,
                 "' to average over ranks (call backward first)");
      const Tensor& gradient = found->second;
      ONYX_CHECK(gradient.dtype() == bucket.type, ErrorCode::kRuntimeFailure, "the gradient of '", name, "' is ",
                 dtype_name(gradient.dtype()), ", its bucket holds ", dtype_name(bucket.type));
      ONYX_CHECK(cursor + gradient.byte_size() <= in_flight[b].buffer.get() + bytes, ErrorCode::kRuntimeFailure,
                 "the gradient of '", name, "' grew since the buckets were planned");
      std::memcpy(cursor, gradient.raw_data(), gradient.byte_size());
      cursor += gradient.byte_size();
    }
    ONYX_CHECK(cursor == in_flight[b].buffer.get() + bytes, ErrorCode::kRuntimeFailure,
               "gradient sizes changed since the buckets were planned");
    in_flight[b].reduction = communicator.start_all_reduce_sum(in_flight[b].buffer.get(), bucket.elements, bucket.type);
  }
  for (size_t b = 0; b < buckets.size(); ++b) {
    in_flight[b].reduction->wait();
    const void* packed = in_flight[b].buffer.get();
    if (buckets[b].type == DataType::kFloat) {
      unpack_scaled(static_cast<const float*>(packed), buckets[b], gradients, scale);
    } else if (buckets[b].type == DataType::kDouble) {
      unpack_scaled(static_cast<const double*>(packed), buckets[b], gradients, scale);
    } else {
      throw_error(ErrorCode::kNotImplemented, "averaging ", dtype_name(buckets[b].type),
                  " gradients over ranks (float and double are supported)");
    }
  }
}

}  // namespace onyx::training::distributed
