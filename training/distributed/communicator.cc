#include "training/distributed/communicator.h"

#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>

#include "providers/provider_factory.h"
#include "runtime/common/error.h"
#ifdef ONYX_HAVE_MPI
#include "training/distributed/mpi_communicator.h"
#endif

namespace onyx::training::distributed {

namespace {

class SingleProcessCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "single process"; }
  std::unique_ptr<PendingReduction> start_all_reduce_sum(void*, size_t, DataType) override {
    struct Done final : PendingReduction {
      void wait() override {}
    };
    return std::make_unique<Done>();
  }
  void broadcast(void*, size_t, int) override {}
  [[noreturn]] void abort(const std::string& message) override {
    std::cerr << "onyx: error: " << message << std::endl;
    std::exit(1);
  }
};

std::map<std::string, CommunicatorMaker>& communicator_makers() {
  static std::map<std::string, CommunicatorMaker> makers;
  return makers;
}

std::mutex& communicator_makers_mutex() {
  static std::mutex mutex;
  return mutex;
}

// The plug-in library that provides each backend (loaded through the provider factory).
std::string plugin_provider_of(const std::string& backend) { return backend == "nccl" ? "cuda" : ""; }

}  // namespace

std::string Communicator::describe_rank() const {
  return "rank " + std::to_string(rank()) + " of " + std::to_string(size());
}

void Communicator::count_all_reduce(size_t count, DataType type) {
  bytes_all_reduced_ += dtype_storage_bytes(type, static_cast<int64_t>(count));
}

std::shared_ptr<Communicator> single_process_communicator() {
  static const auto single = std::make_shared<SingleProcessCommunicator>();
  return single;
}

int launcher_world_size() {
  // Open MPI, MPICH/Intel MPI (Hydra's PMI), PMIx launchers and Slurm's srun.
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"}) {
    const char* text = std::getenv(variable);
    if (text != nullptr && *text != '\0') return std::max(1, std::atoi(text));
  }
  return 1;
}

bool built_with_mpi() {
#ifdef ONYX_HAVE_MPI
  return true;
#else
  return false;
#endif
}

std::shared_ptr<Communicator> world_communicator(std::chrono::milliseconds timeout) {
  static std::mutex mutex;
  static std::shared_ptr<Communicator> world;
  std::lock_guard lock(mutex);
  if (world) return world;
  const int launched = launcher_world_size();
  if (launched <= 1) return world = single_process_communicator();
  ONYX_CHECK(built_with_mpi(), ErrorCode::kNotImplemented, "started as one of ", launched,
             " processes (mpirun), but this onyx was built without MPI: install Open MPI's development "
             "package (libopenmpi-dev) and rebuild, or run a single process");
#ifdef ONYX_HAVE_MPI
  return world = make_mpi_world_communicator(timeout);
#else
  return world = single_process_communicator();  // not reached: refused above
#endif
}

CommunicatorRegistrar::CommunicatorRegistrar(const std::string& backend, CommunicatorMaker maker) {
  std::lock_guard lock(communicator_makers_mutex());
  communicator_makers()[backend] = std::move(maker);
}

std::shared_ptr<Communicator> make_communicator(const std::string& backend, std::shared_ptr<Communicator> bootstrap,
                                                int device) {
  const std::string provider = plugin_provider_of(backend);
  ONYX_CHECK(!provider.empty(), ErrorCode::kInvalidArgument, "unknown communicator backend '", backend,
             "' (known: nccl; MPI and single-process come from world_communicator)");
  ONYX_CHECK(load_provider_library(provider), ErrorCode::kNotImplemented, "the ", backend,
             " communicator needs the CUDA provider (libonyx_cuda.so), which this onyx build does not have");
  CommunicatorMaker maker;
  {
    std::lock_guard lock(communicator_makers_mutex());
    auto found = communicator_makers().find(backend);
    ONYX_CHECK(found != communicator_makers().end(), ErrorCode::kNotImplemented, "the CUDA provider of this build ",
               "has no ", backend, " communicator (it was built without nccl.h)");
    maker = found->second;
  }
  return maker(std::move(bootstrap), device);
}

}  // namespace onyx::training::distributed
