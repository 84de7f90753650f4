// The CUDA provider without a GPU: options are parsed and checked, capability queries work
// without touching a device, and open() fails with one readable onyx::Error when there is no
// driver or device (on a GPU machine: for a device id that does not exist).
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "providers/kernel_registry.h"
#include "providers/provider_factory.h"
#include "runtime/ir/graph.h"

namespace onyx {
namespace {

// Null when this build has no CUDA provider (then the tests say so and skip).
std::shared_ptr<ExecutionProvider> cuda_provider_or_null(const std::string& spec, std::string& why) {
  try {
    return make_provider(ProviderSpec::parse(spec));
  } catch (const Error& error) {
    if (error.code() != ErrorCode::kNotImplemented) throw;
    why = error.what();
    return nullptr;
  }
}

std::string open_error(ExecutionProvider& provider) {
  try {
    provider.open();
  } catch (const Error& error) {
    return error.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << "open() threw a non-onyx exception: " << error.what();
    return error.what();
  }
  return "";
}

TEST(CudaProvider, OpenWithoutADeviceThrowsOneReadableSentence) {
  std::string why;
  auto provider = cuda_provider_or_null("cuda", why);
  if (!provider) GTEST_SKIP() << "no CUDA device: " << why;
  EXPECT_EQ(provider->name(), "CUDA");
  EXPECT_EQ(provider->device().type, DeviceType::kCuda);
  std::string message = open_error(*provider);
  bool no_device = !message.empty();
  if (!no_device) {
    // A device is present: an id past the last one must fail the same way.
    auto missing = make_provider(ProviderSpec::parse("cuda:999"));
    message = open_error(*missing);
    EXPECT_NE(message.find("cuda:999"), std::string::npos) << message;
  }
  std::cout << "open() says: " << message << "\n";
  EXPECT_NE(message.find("CUDA"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  // A provider that failed to open refuses work instead of crashing.
  if (no_device) {
    EXPECT_THROW(provider->acquire_run_state(), Error);
  }
}

TEST(CudaProvider, OptionsAreCheckedAndUnknownOnesListed) {
  std::string why;
  if (!cuda_provider_or_null("cuda", why)) GTEST_SKIP() << "no CUDA device: " << why;
  EXPECT_NO_THROW(make_provider(ProviderSpec::parse("cuda:0,memory_limit=1000000,tf32=1,cudnn_conv_algo_search=exhaustive")));
  try {
    make_provider(ProviderSpec::parse("cuda,fast=1"));
    ADD_FAILURE() << "an unknown option was accepted";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    for (const char* known : {"fast", "memory_limit", "tf32", "cudnn_conv_algo_search"}) {
      EXPECT_NE(message.find(known), std::string::npos) << message;
    }
  }
  EXPECT_THROW(make_provider(ProviderSpec::parse("cuda,tf32=yes")), Error);
  EXPECT_THROW(make_provider(ProviderSpec::parse("cuda,memory_limit=lots")), Error);
  EXPECT_THROW(make_provider(ProviderSpec::parse("cuda,cudnn_conv_algo_search=fastest")), Error);
}

TEST(CudaProvider, FindsKernelsWithoutTouchingTheDevice) {
  std::string why;
  auto provider = cuda_provider_or_null("cuda", why);
  if (!provider) GTEST_SKIP() << "no CUDA device: " << why;
  Node relu;
  relu.op_type = "Relu";
  relu.inputs = {"x"};
  relu.outputs = {"y"};
  EXPECT_NE(provider->find_kernel(relu, 14), nullptr);
  Node conv = relu;
  conv.op_type = "Conv";
  EXPECT_NE(provider->find_kernel(conv, 11), nullptr);
  Node unknown = relu;
  unknown.op_type = "NonMaxSuppression";
  EXPECT_EQ(provider->find_kernel(unknown, 11), nullptr);
  auto providers = available_providers();
  bool listed = false;
  for (const auto& [name, description] : providers) listed = listed || name == "cuda";
  EXPECT_TRUE(listed);
}

// A CUDA kernel serves the opsets its CPU twin does: a narrower range would send nodes of the
// other opsets to the CPU (with copies) for no reason, a wider one would claim opsets whose
// meaning the CPU kernel (the reference) does not define.
TEST(CudaProvider, KernelsRegisterTheCpuKernelsOpsetRanges) {
  std::string why;
  if (!cuda_provider_or_null("cuda", why)) GTEST_SKIP() << "no CUDA device: " << why;
  int cuda_kernels = 0;
  for (const KernelDef* def : KernelRegistry::global().all()) {
    if (def->provider != "CUDA") continue;
    ++cuda_kernels;
    const KernelDef* cpu = KernelRegistry::global().find("CPU", def->domain, def->op_type, def->since_version);
    ASSERT_NE(cpu, nullptr) << def->op_type << ": no CPU kernel at opset " << def->since_version;
    EXPECT_EQ(cpu->since_version, def->since_version) << def->op_type;
    EXPECT_EQ(cpu->until_version, def->until_version) << def->op_type;
  }
  EXPECT_GE(cuda_kernels, 80);
  std::cout << cuda_kernels << " CUDA kernels registered\n";
}

}  // namespace
}  // namespace onyx
