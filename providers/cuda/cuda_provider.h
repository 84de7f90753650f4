// The CUDA execution provider: one device, its caching allocator, a pool of per-run states
// (stream + cuBLAS/cuBLASLt/cuDNN handles + pinned staging) and the host<->device copies.
// Constructing it touches no device, so capability queries (`onyx inspect`, placement) work on
// a machine without a GPU; open() is where the driver and device are checked.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "providers/cuda/cuda_allocator.h"
#include "providers/execution_provider.h"
#include "providers/provider_factory.h"

namespace onyx::cuda {

inline constexpr const char* kCudaProvider = "CUDA";

enum class ConvAlgoSearch { kHeuristic, kExhaustive };

// Options of the "cuda" provider spec ("cuda:0,memory_limit=2000000000,tf32=1").
struct CudaOptions {
  size_t memory_limit = 0;  // bytes reserved on the device at most; 0: no cap
  bool tf32 = false;        // let fp32 MatMul/Gemm/Conv use TF32 tensor cores
  ConvAlgoSearch conv_algo_search = ConvAlgoSearch::kHeuristic;

  // Throws kInvalidArgument for an unknown key (listing the known ones) or a bad value.
  static CudaOptions parse(const std::map<std::string, std::string>& options);
};

// Pinned host memory for one stream's copies. A copy from it may still be in flight when the
// caller returns (from_host), so reuse waits for the event recorded after the last copy.
class PinnedStaging {
 public:
  PinnedStaging() = default;
  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;
  ~PinnedStaging();
  // At least `bytes` (up to kMaxBytes: larger copies go in chunks), once earlier copies are done.
  void* acquire(size_t bytes);
  size_t capacity() const { return capacity_; }
  // Marks the end of the copies queued on `stream` that read or write the buffer.
  void release_after(cudaStream_t stream);

  static constexpr size_t kMaxBytes = size_t{64} << 20;

 private:
  void* buffer_ = nullptr;
  size_t capacity_ = 0;
  cudaEvent_t done_ = nullptr;
  bool pending_ = false;
};

class CudaRunState final : public DeviceRunState {
 public:
  CudaRunState(int device, const CudaOptions& options);
  ~CudaRunState() override;
  CudaRunState(const CudaRunState&) = delete;
  CudaRunState& operator=(const CudaRunState&) = delete;

  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cublasLtHandle_t cublas_lt = nullptr;
  cudnnHandle_t cudnn = nullptr;
  PinnedStaging staging;
};

class CudaExecutionProvider final : public ExecutionProvider {
 public:
  CudaExecutionProvider(int device_id, CudaOptions options);
  ~CudaExecutionProvider() override;

  std::string name() const override { return kCudaProvider; }
  Device device() const override { return {DeviceType::kCuda, device_id_}; }
  std::shared_ptr<Allocator> allocator() override { return allocator_; }
  const std::shared_ptr<CudaAllocator>& cuda_allocator() const { return allocator_; }
  const CudaOptions& options() const { return options_; }

  void open() override;
  bool is_open() const;
  std::shared_ptr<DeviceRunState> acquire_run_state() override;
  std::unique_ptr<OutputAllocator> make_output_allocator(DeviceRunState* run) override;
  Tensor to_host(const Tensor& tensor, DeviceRunState* run) override;
  Tensor from_host(const Tensor& tensor, DeviceRunState* run) override;
  void synchronize(DeviceRunState* run) override;

  // Device copy of a host tensor, made once (a kernel's pre-packed constant input); waits for
  // the copy, so the host tensor may go at once.
  Tensor upload(const Tensor& host);
  // Compute capability of the device, e.g. 90 (after open()).
  int compute_capability() const { return compute_capability_; }

 private:
  struct RunStatePool {
    std::mutex mutex;
    std::vector<std::unique_ptr<CudaRunState>> free;
  };
  // The provider's own stream and staging, for copies without a run (to_host(t, nullptr)).
  struct OwnCopyState {
    std::mutex mutex;
    cudaStream_t stream = nullptr;
    PinnedStaging staging;
  };
  cudaStream_t stream_of(DeviceRunState* run) const;
  void require_open(const char* what) const;

  int device_id_;
  CudaOptions options_;
  std::shared_ptr<CudaAllocator> allocator_;
  std::shared_ptr<RunStatePool> run_states_;
  mutable std::mutex open_mutex_;
  bool open_ = false;
  int compute_capability_ = 0;
  std::unique_ptr<OwnCopyState> own_;
};

// The run state a CUDA kernel was given (throws a clear error when the session gave none).
CudaRunState& cuda_run_state(DeviceRunState* state);
// The provider a CUDA kernel was created for.
CudaExecutionProvider& cuda_provider_of(ExecutionProvider& provider);

std::shared_ptr<ExecutionProvider> make_cuda_provider(const ProviderSpec& spec);

}  // namespace onyx::cuda
