#include "providers/cuda/cuda_provider.h"

#include <charconv>
#include <cstring>

#include "providers/cuda/cuda_check.h"

namespace onyx::cuda {

namespace {

bool parse_cuda_size(const std::string& text, size_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

// The runtime-managed current device is per thread: every entry point that may run on a new
// thread (a run, a copy, a kernel's pre-pack) sets it.
void use_cuda_device(int device) { ONYX_CUDA_CHECK(cudaSetDevice(device)); }

class CudaOutputAllocator final : public OutputAllocator {
 public:
  CudaOutputAllocator(std::shared_ptr<CudaAllocator> allocator, cudaStream_t stream)
      : allocator_(std::move(allocator)), stream_(stream) {}
  Tensor allocate(int, DataType dtype, const Shape& shape) override {
    if (dtype == DataType::kString) {
      throw_error(ErrorCode::kNotImplemented, "CUDA provider: string tensors cannot live on the device");
    }
    int64_t count = shape_element_count(shape);
    std::shared_ptr<void> block = allocator_->allocate_on(dtype_storage_bytes(dtype, count), stream_);
    void* data = block.get();
    return Tensor::view(dtype, shape, data, std::move(block), allocator_->device());
  }

 private:
  std::shared_ptr<CudaAllocator> allocator_;
  cudaStream_t stream_;
};

}  // namespace

CudaOptions CudaOptions::parse(const std::map<std::string, std::string>& options) {
  CudaOptions parsed;
  for (const auto& [key, value] : options) {
    if (key == "memory_limit") {
      if (!parse_cuda_size(value, parsed.memory_limit)) {
        throw_error(ErrorCode::kInvalidArgument, "cuda provider: memory_limit must be a byte count, got '",
                    value, "'");
      }
    } else if (key == "tf32") {
      if (value != "0" && value != "1") {
        throw_error(ErrorCode::kInvalidArgument, "cuda provider: tf32 must be 0 or 1, got '", value, "'");
      }
      parsed.tf32 = value == "1";
    } else if (key == "cudnn_conv_algo_search") {
      if (value == "heuristic") {
        parsed.conv_algo_search = ConvAlgoSearch::kHeuristic;
      } else if (value == "exhaustive") {
        parsed.conv_algo_search = ConvAlgoSearch::kExhaustive;
      } else {
        throw_error(ErrorCode::kInvalidArgument,
                    "cuda provider: cudnn_conv_algo_search must be heuristic or exhaustive, got '", value, "'");
      }
    } else {
      throw_error(ErrorCode::kInvalidArgument, "cuda provider: unknown option '", key,
                  "'; known options: memory_limit, tf32, cudnn_conv_algo_search");
    }
  }
  return parsed;
}

PinnedStaging::~PinnedStaging() {
  if (done_ != nullptr) {
    if (pending_) cudaEventSynchronize(done_);
    cudaEventDestroy(done_);
  }
  if (buffer_ != nullptr) cudaFreeHost(buffer_);
}

void* PinnedStaging::acquire(size_t bytes) {
  if (pending_) {
    ONYX_CUDA_CHECK(cudaEventSynchronize(done_));
    pending_ = false;
  }
  bytes = std::min(std::max(bytes, size_t{1} << 16), kMaxBytes);
  if (bytes > capacity_) {
    if (buffer_ != nullptr) ONYX_CUDA_CHECK(cudaFreeHost(buffer_));
    buffer_ = nullptr;
    capacity_ = 0;
    ONYX_CUDA_CHECK(cudaMallocHost(&buffer_, bytes));
    capacity_ = bytes;
  }
  return buffer_;
}

void PinnedStaging::release_after(cudaStream_t stream) {
  if (done_ == nullptr) ONYX_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
  ONYX_CUDA_CHECK(cudaEventRecord(done_, stream));
  pending_ = true;
}

CudaRunState::CudaRunState(int device_id, const CudaOptions& options) : device(device_id) {
  use_cuda_device(device_id);
  // Non-blocking: a run's stream must not serialize with the legacy default stream other
  // libraries in the process may use.
  ONYX_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  ONYX_CUBLAS_CHECK(cublasCreate(&cublas));
  ONYX_CUBLAS_CHECK(cublasSetStream(cublas, stream));
  // Pointer mode host: alpha/beta come from host variables. TF32 only when the user allows it.
  ONYX_CUBLAS_CHECK(cublasSetMathMode(cublas, options.tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  ONYX_CUBLAS_CHECK(cublasLtCreate(&cublas_lt));
  ONYX_CUDNN_CHECK(cudnnCreate(&cudnn));
  ONYX_CUDNN_CHECK(cudnnSetStream(cudnn, stream));
}

CudaRunState::~CudaRunState() {
  if (stream != nullptr) cudaStreamSynchronize(stream);
  if (cudnn != nullptr) cudnnDestroy(cudnn);
  if (cublas_lt != nullptr) cublasLtDestroy(cublas_lt);
  if (cublas != nullptr) cublasDestroy(cublas);
  if (stream != nullptr) cudaStreamDestroy(stream);
}

CudaExecutionProvider::CudaExecutionProvider(int device_id, CudaOptions options)
    : device_id_(device_id), options_(options),
      allocator_(std::make_shared<CudaAllocator>(device_id, options.memory_limit, nullptr)),
      run_states_(std::make_shared<RunStatePool>()) {}

CudaExecutionProvider::~CudaExecutionProvider() {
  if (!own_) return;
  cudaStreamSynchronize(own_->stream);
  // Live blocks (tensors the caller still holds) keep the allocator's pool: plain allocations
  // from now on go to the legacy stream, never to the stream destroyed here.
  allocator_->set_default_stream(nullptr);
  cudaStream_t stream = own_->stream;
  own_.reset();
  cudaStreamDestroy(stream);
}

void CudaExecutionProvider::open() {
  std::lock_guard<std::mutex> lock(open_mutex_);
  if (open_) return;
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaErrorNoDevice || (status == cudaSuccess && count == 0)) {
    cudaGetLastError();
    throw_error(ErrorCode::kRuntimeFailure, "CUDA provider: no CUDA device on this machine (cudaGetDeviceCount: ",
                cudaGetErrorName(status), ": ", cudaGetErrorString(status), ", ", count, " devices)");
  }
  if (status != cudaSuccess) {
    cudaGetLastError();
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);  // 0 when no driver is installed at all
    cudaRuntimeGetVersion(&runtime);
    if (status == cudaErrorInsufficientDriver && driver == 0) {
      throw_error(ErrorCode::kRuntimeFailure, "CUDA provider: no CUDA driver on this machine (cudaGetDeviceCount: ",
                  cudaGetErrorName(status), ": ", cudaGetErrorString(status), ")");
    }
    if (status == cudaErrorInsufficientDriver) {
      throw_error(ErrorCode::kRuntimeFailure, "CUDA provider: the CUDA driver (", driver / 1000, ".", driver % 1000 / 10,
                  ") is older than this build's CUDA runtime (", runtime / 1000, ".", runtime % 1000 / 10,
                  ") needs (cudaGetDeviceCount: ", cudaGetErrorName(status), ")");
    }
    throw_error(ErrorCode::kRuntimeFailure, "CUDA provider: no usable CUDA driver on this machine (cudaGetDeviceCount: ",
                cudaGetErrorName(status), ": ", cudaGetErrorString(status), ")");
  }
  if (device_id_ >= count) {
    throw_error(ErrorCode::kInvalidArgument, "CUDA provider: device cuda:", device_id_,
                " does not exist (this machine has ", count, " CUDA device", count == 1 ? "" : "s",
                ": cuda:0 to cuda:", count - 1, ")");
  }
  use_cuda_device(device_id_);
  cudaDeviceProp properties{};
  ONYX_CUDA_CHECK(cudaGetDeviceProperties(&properties, device_id_));
  compute_capability_ = properties.major * 10 + properties.minor;
  // The library carries sm_90 code and compute_80 PTX: older devices cannot load its kernels.
  if (compute_capability_ < 80) {
    throw_error(ErrorCode::kNotImplemented, "CUDA provider: cuda:", device_id_, " (", properties.name,
                ") has compute capability ", properties.major, ".", properties.minor,
                "; this build runs on 8.0 or newer");
  }
  auto own = std::make_unique<OwnCopyState>();
  ONYX_CUDA_CHECK(cudaStreamCreateWithFlags(&own->stream, cudaStreamNonBlocking));
  allocator_->set_default_stream(own->stream);
  own_ = std::move(own);
  open_ = true;
}

bool CudaExecutionProvider::is_open() const {
  std::lock_guard<std::mutex> lock(open_mutex_);
  return open_;
}

void CudaExecutionProvider::require_open(const char* what) const {
  if (!is_open()) {
    throw_error(ErrorCode::kRuntimeFailure, "CUDA provider: ", what,
                " before open() (the session opens its providers before creating kernels)");
  }
}

std::shared_ptr<DeviceRunState> CudaExecutionProvider::acquire_run_state() {
  require_open("acquire_run_state()");
  std::unique_ptr<CudaRunState> state;
  {
    std::lock_guard<std::mutex> lock(run_states_->mutex);
    if (!run_states_->free.empty()) {
      state = std::move(run_states_->free.back());
      run_states_->free.pop_back();
    }
  }
  if (!state) state = std::make_unique<CudaRunState>(device_id_, options_);
  use_cuda_device(device_id_);
  // The deleter owns the pool, so a run that ends after the provider still has a home.
  return std::shared_ptr<DeviceRunState>(state.release(), [pool = run_states_](DeviceRunState* raw) {
    std::unique_ptr<CudaRunState> returned(static_cast<CudaRunState*>(raw));
    std::lock_guard<std::mutex> lock(pool->mutex);
    pool->free.push_back(std::move(returned));
  });
}

cudaStream_t CudaExecutionProvider::stream_of(DeviceRunState* run) const {
  return run != nullptr ? static_cast<CudaRunState*>(run)->stream : own_->stream;
}

std::unique_ptr<OutputAllocator> CudaExecutionProvider::make_output_allocator(DeviceRunState* run) {
  require_open("make_output_allocator()");
  return std::make_unique<CudaOutputAllocator>(allocator_, stream_of(run));
}

Tensor CudaExecutionProvider::to_host(const Tensor& tensor, DeviceRunState* run) {
  if (tensor.device().is_cpu()) return tensor;
  require_open("to_host()");
  use_cuda_device(device_id_);
  Tensor host(tensor.dtype(), tensor.shape());
  size_t bytes = tensor.byte_size();
  cudaStream_t stream = stream_of(run);
  std::unique_lock<std::mutex> own_lock;
  if (run == nullptr) own_lock = std::unique_lock<std::mutex>(own_->mutex);
  PinnedStaging& staging = run != nullptr ? static_cast<CudaRunState*>(run)->staging : own_->staging;
  const char* source = static_cast<const char*>(tensor.raw_data());
  char* target = static_cast<char*>(host.mutable_raw_data());
  for (size_t done = 0; done < bytes;) {
    void* buffer = staging.acquire(bytes - done);
    size_t chunk = std::min(bytes - done, staging.capacity());
    ONYX_CUDA_CHECK(cudaMemcpyAsync(buffer, source + done, chunk, cudaMemcpyDeviceToHost, stream));
    ONYX_CUDA_CHECK(cudaStreamSynchronize(stream));
    std::memcpy(target + done, buffer, chunk);
    done += chunk;
  }
  return host;
}

Tensor CudaExecutionProvider::from_host(const Tensor& tensor, DeviceRunState* run) {
  if (!tensor.device().is_cpu()) return tensor;
  require_open("from_host()");
  use_cuda_device(device_id_);
  cudaStream_t stream = stream_of(run);
  Tensor device = CudaOutputAllocator(allocator_, stream).allocate(-1, tensor.dtype(), tensor.shape());
  size_t bytes = tensor.byte_size();
  std::unique_lock<std::mutex> own_lock;
  if (run == nullptr) own_lock = std::unique_lock<std::mutex>(own_->mutex);
  PinnedStaging& staging = run != nullptr ? static_cast<CudaRunState*>(run)->staging : own_->staging;
  const char* source = static_cast<const char*>(tensor.raw_data());
  char* target = static_cast<char*>(device.mutable_raw_data());
  for (size_t done = 0; done < bytes;) {
    // acquire() waits for the previous chunk's copy: the staging buffer is reused.
    void* buffer = staging.acquire(bytes - done);
    size_t chunk = std::min(bytes - done, staging.capacity());
    std::memcpy(buffer, source + done, chunk);
    ONYX_CUDA_CHECK(cudaMemcpyAsync(target + done, buffer, chunk, cudaMemcpyHostToDevice, stream));
    staging.release_after(stream);
    done += chunk;
  }
  // Without a run the copy is on the provider's stream, which nothing else orders after: wait,
  // so that work on any run's stream may read the tensor.
  if (run == nullptr) ONYX_CUDA_CHECK(cudaStreamSynchronize(stream));
  return device;
}

Tensor CudaExecutionProvider::upload(const Tensor& host) { return from_host(host, nullptr); }

void CudaExecutionProvider::synchronize(DeviceRunState* run) {
  require_open("synchronize()");
  ONYX_CUDA_CHECK(cudaStreamSynchronize(stream_of(run)));
}

CudaRunState& cuda_run_state(DeviceRunState* state) {
  if (state == nullptr) {
    throw_error(ErrorCode::kRuntimeFailure,
                "CUDA kernel called without a CUDA run state (the session must acquire one per run)");
  }
  return *static_cast<CudaRunState*>(state);
}

CudaExecutionProvider& cuda_provider_of(ExecutionProvider& provider) {
  auto* cuda = dynamic_cast<CudaExecutionProvider*>(&provider);
  if (cuda == nullptr) {
    throw_error(ErrorCode::kRuntimeFailure, "a CUDA kernel was created for provider '", provider.name(), "'");
  }
  return *cuda;
}

std::shared_ptr<ExecutionProvider> make_cuda_provider(const ProviderSpec& spec) {
  return std::make_shared<CudaExecutionProvider>(spec.device_id, CudaOptions::parse(spec.options));
}

ONYX_REGISTER_PROVIDER("cuda", "NVIDIA GPUs (CUDA, cuBLAS, cuDNN)", make_cuda_provider);

}  // namespace onyx::cuda
