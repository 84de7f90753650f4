#include "providers/execution_provider.h"

namespace onyx {

namespace {

class ProviderOutputAllocator final : public OutputAllocator {
 public:
  explicit ProviderOutputAllocator(std::shared_ptr<Allocator> allocator) : allocator_(std::move(allocator)) {}
  Tensor allocate(int, DataType dtype, const Shape& shape) override { return Tensor(dtype, shape, *allocator_); }

 private:
  std::shared_ptr<Allocator> allocator_;
};

}  // namespace

std::unique_ptr<OutputAllocator> ExecutionProvider::make_output_allocator(DeviceRunState*) {
  return std::make_unique<ProviderOutputAllocator>(allocator());
}

}  // namespace onyx
