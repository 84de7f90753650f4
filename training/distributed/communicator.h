// Communicator: what data-parallel training asks of a communication engine (MPI between
// processes, NCCL between GPUs, or nothing in a single process). TrainingSession takes one
// (TrainingOptions::communicator) and, with more than one rank, averages gradients over it,
// reduces BatchNormalization statistics and losses across ranks and keeps parameters in step.
//
// Every rank must make the same calls in the same order (collectives). A collective that does
// not finish within the communicator's timeout ends every rank's process (abort) with a message
// naming this rank, so a rank that died or hung stops the job instead of hanging it.
// No MPI or NCCL header is included here: implementations live in their own files.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/tensor/dtype.h"

namespace onyx::training::distributed {

// An all-reduce in flight; wait() returns when the data holds the sum over all ranks.
class PendingReduction {
 public:
  virtual ~PendingReduction() = default;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "single process", "MPI", "NCCL": for messages.
  virtual std::string backend() const = 0;

  // Starts summing `count` elements (float or double) of `data` over all ranks, in place, and
  // returns at once where the backend can (MPI, NCCL); several may be in flight, finishing in
  // any order, but every rank must start them in the same order. The memory must stay valid and
  // untouched until wait() returns. (Data-parallel training starts one per gradient bucket while
  // the backward pass still runs.)
  virtual std::unique_ptr<PendingReduction> start_all_reduce_sum(void* data, size_t count, DataType type) = 0;
  // Lets reductions in flight move on without waiting for them. MPI without an asynchronous
  // progress thread (Open MPI's default) advances a non-blocking collective only inside MPI
  // calls, so the training session calls this between backward nodes while buckets are on the
  // wire. Cheap when nothing is in flight; a no-op where the transfer runs by itself (NCCL's
  // stream, one process).
  virtual void progress() {}
  // Copies `bytes` of `root`'s `data` into every other rank's `data`.
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // Ends the processes of every rank, after printing "onyx: error: rank R of N: message" on
  // this one. For failures on one rank that the others cannot know about.
  [[noreturn]] virtual void abort(const std::string& message) = 0;

  // --- helpers over the primitives
  void all_reduce_sum(void* data, size_t count, DataType type) { start_all_reduce_sum(data, count, type)->wait(); }
  void all_reduce_sum(std::vector<double>& values) { all_reduce_sum(values.data(), values.size(), DataType::kDouble); }
  bool is_root() const { return rank() == 0; }
  // "rank 1 of 2": how messages name this process.
  std::string describe_rank() const;
  // Bytes this rank has put into all-reduces so far (what a step costs on the wire, roughly).
  uint64_t bytes_all_reduced() const { return bytes_all_reduced_; }

 protected:
  void count_all_reduce(size_t count, DataType type);

 private:
  uint64_t bytes_all_reduced_ = 0;
};

// One rank: every reduction is the identity. TrainingSession's default.
std::shared_ptr<Communicator> single_process_communicator();

// The world this process was started in: an MPI communicator when a launcher (mpirun, srun)
// started several processes and onyx was built with MPI, else the single-process one. Throws
// when launched as one of several processes by a build without MPI. The first call initializes
// MPI; the same communicator is returned afterwards.
std::shared_ptr<Communicator> world_communicator(std::chrono::milliseconds timeout = std::chrono::minutes(5));

// The number of processes a launcher says it started (OMPI_COMM_WORLD_SIZE, PMI_SIZE,
// PMIX_SIZE...); 1 when none did.
int launcher_world_size();
// Whether this build can talk MPI.
bool built_with_mpi();

// Communicators provided by plug-ins (NCCL in libonyx_cuda.so): `bootstrap` (a host
// communicator over the same ranks) exchanges what the new one needs to connect.
using CommunicatorMaker =
    std::function<std::shared_ptr<Communicator>(std::shared_ptr<Communicator> bootstrap, int device)>;
struct CommunicatorRegistrar {
  CommunicatorRegistrar(const std::string& backend, CommunicatorMaker maker);
};
// "nccl": loads the CUDA plug-in, then makes its communicator. Throws with a clear message when
// the backend is not in this build.
std::shared_ptr<Communicator> make_communicator(const std::string& backend, std::shared_ptr<Communicator> bootstrap,
                                                int device);

}  // namespace onyx::training::distributed
