// NCCL as a training Communicator, for data-parallel training with one GPU per rank. It lives in
// libonyx_cuda.so (built when the toolkit has nccl.h), so libonyx_core.so and the CLI never link
// CUDA or NCCL; training::distributed::make_communicator("nccl", bootstrap, device) loads the
// plug-in and finds it through the registrar below. `bootstrap` (MPI) carries NCCL's unique id
// from rank 0 to the others and reports failures. Host buffers (what sessions hand over today:
// graph outputs return to the host) are staged through device memory on the communicator's
// stream; device buffers are reduced in place. NCCL runs non-blocking (config.blocking = 0) and
// every wait polls ncclCommGetAsyncError against the deadline, so a dead peer ends in
// ncclCommAbort and a message, not a hang.
// Untested on real hardware in this repository's CI (no GPU there): it compiles and links.
#include <nccl.h>

#include <cuda_runtime_api.h>

#include <sstream>
#include <thread>

#include "providers/cuda/cuda_check.h"
#include "training/distributed/communicator.h"

namespace onyx::cuda {

namespace {

using training::distributed::Communicator;
using training::distributed::PendingReduction;

void check_nccl(ncclResult_t status, const char* call) {
  if (status != ncclSuccess && status != ncclInProgress) {
    throw_error(ErrorCode::kRuntimeFailure, call, " failed: ", ncclGetErrorString(status));
  }
}

ncclDataType_t nccl_type_of(DataType type) {
  switch (type) {
    case DataType::kFloat:
      return ncclFloat32;
    case DataType::kDouble:
      return ncclFloat64;
    default:
      throw_error(ErrorCode::kNotImplemented, "NCCL all-reduce of ", dtype_name(type), " (float and double)");
  }
}

bool is_device_pointer(const void* data) {
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, data) != cudaSuccess) {
    cudaGetLastError();  // plain host memory on older runtimes: clear the sticky error
    return false;
  }
  return attributes.type == cudaMemoryTypeDevice || attributes.type == cudaMemoryTypeManaged;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(std::shared_ptr<Communicator> bootstrap, int device, std::chrono::milliseconds timeout)
      : bootstrap_(std::move(bootstrap)), device_(device), timeout_(timeout) {
    ONYX_CUDA_CHECK(cudaSetDevice(device_));
    ONYX_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    ncclUniqueId id{};
    if (bootstrap_->is_root()) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    bootstrap_->broadcast(&id, sizeof id, 0);
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    check_nccl(ncclCommInitRankConfig(&comm_, bootstrap_->size(), id, bootstrap_->rank(), &config),
               "ncclCommInitRankConfig");
    wait_until([&] { return true; }, "connecting the NCCL communicator");
  }
  ~NcclCommunicator() override {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }

  int rank() const override { return bootstrap_->rank(); }
  int size() const override { return bootstrap_->size(); }
  std::string backend() const override { return "NCCL"; }

  std::unique_ptr<PendingReduction> start_all_reduce_sum(void* data, size_t count, DataType type) override {
    count_all_reduce(count, type);
    ONYX_CUDA_CHECK(cudaSetDevice(device_));
    const size_t bytes = dtype_storage_bytes(type, static_cast<int64_t>(count));
    auto pending = std::make_unique<Pending>(*this);
    void* on_device = data;
    if (!is_device_pointer(data)) {
      ONYX_CUDA_CHECK(cudaMallocAsync(&pending->staging, bytes, stream_));
      ONYX_CUDA_CHECK(cudaMemcpyAsync(pending->staging, data, bytes, cudaMemcpyHostToDevice, stream_));
      on_device = pending->staging;
    }
    check_nccl(ncclAllReduce(on_device, on_device, count, nccl_type_of(type), ncclSum, comm_, stream_),
               "ncclAllReduce");
    if (pending->staging != nullptr) {
      ONYX_CUDA_CHECK(cudaMemcpyAsync(data, pending->staging, bytes, cudaMemcpyDeviceToHost, stream_));
      ONYX_CUDA_CHECK(cudaFreeAsync(pending->staging, stream_));
    }
    ONYX_CUDA_CHECK(cudaEventCreateWithFlags(&pending->done, cudaEventDisableTiming));
    ONYX_CUDA_CHECK(cudaEventRecord(pending->done, stream_));
    return pending;
  }

  void broadcast(void* data, size_t bytes, int root) override {
    if (!is_device_pointer(data)) return bootstrap_->broadcast(data, bytes, root);
    ONYX_CUDA_CHECK(cudaSetDevice(device_));
    check_nccl(ncclBroadcast(data, data, bytes, ncclUint8, root, comm_, stream_), "ncclBroadcast");
    cudaEvent_t done = nullptr;
    ONYX_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    ONYX_CUDA_CHECK(cudaEventRecord(done, stream_));
    wait_until([&] { return cudaEventQuery(done) == cudaSuccess; }, "an NCCL broadcast");
    cudaEventDestroy(done);
  }

  [[noreturn]] void abort(const std::string& message) override {
    if (comm_ != nullptr) ncclCommAbort(comm_), comm_ = nullptr;
    bootstrap_->abort(message);
  }

 private:
  struct Pending final : PendingReduction {
    explicit Pending(NcclCommunicator& owner) : owner(owner) {}
    ~Pending() override {
      if (done != nullptr) {
        if (!waited) wait();
        cudaEventDestroy(done);
      }
    }
    void wait() override {
      owner.wait_until([&] { return cudaEventQuery(done) == cudaSuccess; }, "an NCCL all-reduce");
      waited = true;
    }
    NcclCommunicator& owner;
    void* staging = nullptr;
    cudaEvent_t done = nullptr;
    bool waited = false;
  };

  // Polls `finished` and NCCL's asynchronous error until the deadline; aborts every rank on an
  // error or a timeout.
  template <typename Finished>
  void wait_until(Finished finished, const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
      ncclResult_t state = ncclSuccess;
      ncclCommGetAsyncError(comm_, &state);
      if (state != ncclSuccess && state != ncclInProgress) {
        abort(std::string(what) + " failed: " + ncclGetErrorString(state));
      }
      if (state == ncclSuccess && finished()) return;
      if (std::chrono::steady_clock::now() > deadline) {
        std::ostringstream text;
        text << what << " did not finish within " << timeout_.count() / 1000.0
             << " s: another rank stopped or hung; stopping every rank";
        abort(text.str());
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  std::shared_ptr<Communicator> bootstrap_;
  int device_;
  std::chrono::milliseconds timeout_;
  cudaStream_t stream_ = nullptr;
  ncclComm_t comm_ = nullptr;
};

const training::distributed::CommunicatorRegistrar kNcclCommunicatorRegistrar(
    "nccl", [](std::shared_ptr<Communicator> bootstrap, int device) -> std::shared_ptr<Communicator> {
      return std::make_shared<NcclCommunicator>(std::move(bootstrap), device, std::chrono::minutes(5));
    });

}  // namespace

}  // namespace onyx::cuda
