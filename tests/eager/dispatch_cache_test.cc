// The eager kernel cache: repeated calls with the same op, dtypes, ranks and attributes reuse
// one kernel object; a different dtype, rank or attribute value gets its own.
#include <gtest/gtest.h>

#include "runtime/eager/eager.h"
#include "runtime/eager/op_dispatch.h"

namespace onyx {
namespace {

TEST(EagerDispatchCache, RepeatedCallsReuseOneKernel) {
  eager::clear_kernel_cache();
  static const eager::OpHandle add("", "Add");
  Tensor a = Tensor::from_vector<float>({4}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<float>({4}, {1, 1, 1, 1});
  const Tensor* inputs[] = {&a, &b};
  const Kernel* first = eager::cached_kernel_for(add, inputs, {}, 1);
  for (int i = 0; i < 10; ++i) a = a + b;
  eager::DispatchStats stats = eager::dispatch_stats();
  EXPECT_EQ(stats.cached_kernels, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 10u);
  // Other shapes of the same rank share the kernel: it was created for unknown dims.
  Tensor c = Tensor::from_vector<float>({2}, {1, 2});
  const Tensor* other_shape[] = {&c, &c};
  EXPECT_EQ(eager::cached_kernel_for(add, other_shape, {}, 1), first);
  EXPECT_EQ(a.values<float>()[0], 11.0f);
}

TEST(EagerDispatchCache, DtypeRankAndAttributesSelectDifferentKernels) {
  eager::clear_kernel_cache();
  static const eager::OpHandle add("", "Add");
  Tensor f = Tensor::from_vector<float>({2}, {1, 2});
  Tensor d = Tensor::from_vector<double>({2}, {1, 2});
  Tensor matrix = Tensor::from_vector<float>({1, 2}, {1, 2});
  const Tensor* floats[] = {&f, &f};
  const Tensor* doubles[] = {&d, &d};
  const Tensor* ranks[] = {&matrix, &f};
  const Kernel* float_kernel = eager::cached_kernel_for(add, floats, {}, 1);
  EXPECT_NE(eager::cached_kernel_for(add, doubles, {}, 1), float_kernel);
  EXPECT_NE(eager::cached_kernel_for(add, ranks, {}, 1), float_kernel);

  static const eager::OpHandle softmax("", "Softmax");
  const Tensor* one[] = {&matrix};
  Attribute axis0 = make_attribute("axis", int64_t{0});
  Attribute axis1 = make_attribute("axis", int64_t{1});
  Attribute axis1_again = make_attribute("axis", int64_t{1});
  const Kernel* k0 = eager::cached_kernel_for(softmax, one, std::span<const Attribute>(&axis0, 1), 1);
  const Kernel* k1 = eager::cached_kernel_for(softmax, one, std::span<const Attribute>(&axis1, 1), 1);
  EXPECT_NE(k0, k1);
  // Equal attribute values built separately hit the same entry.
  EXPECT_EQ(eager::cached_kernel_for(softmax, one, std::span<const Attribute>(&axis1_again, 1), 1), k1);
  EXPECT_EQ(eager::dispatch_stats().cached_kernels, 5u);
}

}  // namespace
}  // namespace onyx
