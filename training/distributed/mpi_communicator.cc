// MPI_COMM_WORLD as a Communicator. Collectives are non-blocking MPI calls polled against a
// deadline, so a rank that died or hung makes the others abort the job with a message instead
// of waiting for ever. Built only when CMake finds MPI (ONYX_HAVE_MPI).
#include "training/distributed/mpi_communicator.h"

#include <mpi.h>

#include <algorithm>
#include <deque>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include "runtime/common/error.h"

namespace onyx::training::distributed {

namespace {

MPI_Datatype mpi_type_of(DataType type) {
  switch (type) {
    case DataType::kFloat:
      return MPI_FLOAT;
    case DataType::kDouble:
      return MPI_DOUBLE;
    default:
      throw_error(ErrorCode::kNotImplemented, "all-reduce of ", dtype_name(type), " (float and double are supported)");
  }
}

std::string mpi_error_text(int status) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  return std::string(text, static_cast<size_t>(length));
}

class MpiWorld final : public Communicator {
 public:
  explicit MpiWorld(std::chrono::milliseconds timeout) : timeout_(timeout) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  // Leaving normally: every rank reaches here after its last collective.
  ~MpiWorld() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "MPI"; }

  std::unique_ptr<PendingReduction> start_all_reduce_sum(void* data, size_t count, DataType type) override {
    ONYX_CHECK(count <= static_cast<size_t>(INT32_MAX), ErrorCode::kNotImplemented, "all-reduce of ", count,
               " elements at once (at most 2^31 - 1)");
    count_all_reduce(count, type);
    auto pending = std::make_unique<Pending>(*this, "an all-reduce");
    const int status = MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), mpi_type_of(type), MPI_SUM,
                                      MPI_COMM_WORLD, &pending->request);
    if (status != MPI_SUCCESS) abort("starting an all-reduce failed: " + mpi_error_text(status));
    in_flight_.push_back(pending.get());
    return pending;
  }

  // One MPI_Test drives Open MPI's progress engine, which advances every non-blocking
  // collective in flight (libnbc's schedules), not only the one tested. No deadline here: the
  // wait() that follows has one.
  void progress() override {
    while (!in_flight_.empty() && in_flight_.front()->request == MPI_REQUEST_NULL) in_flight_.pop_front();
    if (in_flight_.empty()) return;
    int done = 0;
    const int status = MPI_Test(&in_flight_.front()->request, &done, MPI_STATUS_IGNORE);
    if (status != MPI_SUCCESS) abort(std::string("an all-reduce failed: ") + mpi_error_text(status));
  }

  void broadcast(void* data, size_t bytes, int root) override {
    ONYX_CHECK(bytes <= static_cast<size_t>(INT32_MAX), ErrorCode::kNotImplemented, "broadcast of ", bytes,
               " bytes at once (at most 2^31 - 1)");
    Pending pending(*this, "a broadcast");
    MPI_Ibcast(data, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD, &pending.request);
    pending.wait();
  }

  [[noreturn]] void abort(const std::string& message) override {
    std::cout.flush();
    std::cerr << "onyx: error: " << describe_rank() << ": " << message << std::endl;
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);  // MPI_Abort does not return; should it, nothing more may run on this rank.
  }

 private:
  struct Pending final : PendingReduction {
    Pending(MpiWorld& world, const char* what) : world(world), what(what) {}
    ~Pending() override {
      if (request != MPI_REQUEST_NULL) wait();
      std::erase(world.in_flight_, this);
    }
    // Open MPI moves a non-blocking collective forward only inside MPI calls, so the wait
    // polls without sleeping for the first 20 ms (yielding the core to a rank that shares it),
    // then with sleeps growing to 1 ms: cheap while another rank is slow or gone.
    void wait() override {
      const auto start = std::chrono::steady_clock::now();
      const auto deadline = start + world.timeout_;
      std::chrono::microseconds pause(0);
      for (;;) {
        int done = 0;
        const int status = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
        if (status != MPI_SUCCESS) world.abort(std::string(what) + " failed: " + mpi_error_text(status));
        if (done) return;
        const auto now = std::chrono::steady_clock::now();
        if (now > deadline) {
          std::ostringstream text;
          text << what << " did not finish within " << world.timeout_.count() / 1000.0
               << " s: another rank stopped or hung (see its messages); stopping every rank";
          world.abort(text.str());
        }
        if (now - start < std::chrono::milliseconds(20)) {
          std::this_thread::yield();
        } else {
          std::this_thread::sleep_for(pause);
          pause = std::min(pause * 2 + std::chrono::microseconds(1), std::chrono::microseconds(1000));
        }
      }
    }
    MpiWorld& world;
    const char* what;
    MPI_Request request = MPI_REQUEST_NULL;
  };

  std::chrono::milliseconds timeout_;
  std::deque<Pending*> in_flight_;  // started all-reduces, oldest first, until their Pending goes
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

std::shared_ptr<Communicator> make_mpi_world_communicator(std::chrono::milliseconds timeout) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // Serialized: sessions may run on any thread, one collective at a time.
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    ONYX_CHECK(provided >= MPI_THREAD_SERIALIZED, ErrorCode::kRuntimeFailure,
               "this MPI library does not support MPI_THREAD_SERIALIZED");
  }
  // MPI reports its own errors as return codes from here on; ours are the timeouts above.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return std::make_shared<MpiWorld>(timeout);
}

}  // namespace onyx::training::distributed
