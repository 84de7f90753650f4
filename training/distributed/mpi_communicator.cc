// MPI_COMM_WORLD as a Communicator. Collectives are non-blocking MPI calls polled against a
// deadline, so a rank that died or hung makes the others abort the job with a message instead
// of waiting for ever. Built only when CMake finds MPI (ONYX_HAVE_MPI).
//
// Progress: Open MPI (without an asynchronous progress thread, its default) moves a
// non-blocking collective on only inside MPI calls, and a large all-reduce over shared memory
// needs one every few tens of microseconds to finish in the background (an MPI_Iallreduce of
// 25 MiB between 2 ranks here: 14 ms left to wait after 40 ms of computing without MPI calls,
// 7 ms with an MPI_Test every 100 us, 2.7 ms every 50 us). Backward nodes last up to
// milliseconds, so besides progress() between them a thread of this communicator calls
// MPI_Test every ONYX_MPI_PROGRESS_US microseconds (default 50; 0: no thread) while
// all-reduces are in flight and no wait() polls for them, and sleeps otherwise. MPI is initialized MPI_THREAD_SERIALIZED and
// every MPI call here holds one mutex, so no two threads are ever inside MPI at once.
#include "training/distributed/mpi_communicator.h"

#include <mpi.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
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
    const char* period = std::getenv("ONYX_MPI_PROGRESS_US");
    progress_period_ = std::chrono::microseconds(period && *period ? std::atoi(period) : 50);
    if (progress_period_.count() > 0) progress_thread_ = std::thread([this] { progress_in_background(); });
  }
  // Leaving normally: every rank reaches here after its last collective.
  ~MpiWorld() override {
    if (progress_thread_.joinable()) {
      {
        std::lock_guard lock(mutex_);
        stopping_ = true;
      }
      work_.notify_all();
      progress_thread_.join();
    }
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
    const MPI_Datatype mpi_type = mpi_type_of(type);
    auto pending = std::make_unique<Pending>(*this, "an all-reduce");
    {
      std::lock_guard lock(mutex_);
      const int status = MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), mpi_type, MPI_SUM,
                                        MPI_COMM_WORLD, &pending->request);
      if (status != MPI_SUCCESS) abort("starting an all-reduce failed: " + mpi_error_text(status));
      in_flight_.push_back(pending.get());
    }
    work_.notify_one();
    return pending;
  }

  // Between backward nodes: skipped while the progress thread is inside MPI (it is doing this
  // very work), so the compute thread never blocks on it.
  void progress() override {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (lock.owns_lock()) test_oldest();
  }

  void broadcast(void* data, size_t bytes, int root) override {
    ONYX_CHECK(bytes <= static_cast<size_t>(INT32_MAX), ErrorCode::kNotImplemented, "broadcast of ", bytes,
               " bytes at once (at most 2^31 - 1)");
    Pending pending(*this, "a broadcast");
    {
      std::lock_guard lock(mutex_);
      MPI_Ibcast(data, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD, &pending.request);
    }
    pending.wait();
  }

  [[noreturn]] void abort(const std::string& message) override {
    std::cout.flush();
    std::cerr << "onyx: error: " << describe_rank() << ": " << message << std::endl;
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);  // MPI_Abort does not return; should it, nothing more may run on this rank.
  }

 private:
  // One MPI_Test drives Open MPI's progress engine, which advances every non-blocking
  // collective in flight (libnbc's schedules), not only the one tested. No deadline here: the
  // wait() that follows has one. The caller holds mutex_.
  void test_oldest() {
    while (!in_flight_.empty() && in_flight_.front()->request == MPI_REQUEST_NULL) in_flight_.pop_front();
    if (in_flight_.empty()) return;
    int done = 0;
    const int status = MPI_Test(&in_flight_.front()->request, &done, MPI_STATUS_IGNORE);
    if (status != MPI_SUCCESS) abort(std::string("an all-reduce failed: ") + mpi_error_text(status));
  }

  void progress_in_background() {
#ifdef __linux__
    // Linux lets a sleep overrun by the thread's timer slack (50 us by default): keep it short.
    prctl(PR_SET_TIMERSLACK, 5000UL);
#endif
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (waiters_ == 0) test_oldest();
      if (in_flight_.empty() || waiters_ > 0) {
        // Until an all-reduce starts or the wait() polling for them ends (or the world does): a
        // thread in wait() drives progress itself, and this one would only take turns with it
        // on the rank's core.
        work_.wait(lock);
      } else {
        lock.unlock();
        std::this_thread::sleep_for(progress_period_);
        lock.lock();
      }
    }
  }

  struct Pending final : PendingReduction {
    Pending(MpiWorld& world, const char* what) : world(world), what(what) {}
    ~Pending() override {
      if (request != MPI_REQUEST_NULL) wait();
      std::lock_guard lock(world.mutex_);
      std::erase(world.in_flight_, this);
    }
    // Open MPI moves a non-blocking collective forward only inside MPI calls, so the wait
    // polls without sleeping for the first 20 ms (yielding the core to a rank that shares it),
    // then with sleeps growing to 1 ms: cheap while another rank is slow or gone.
    void wait() override {
      {
        std::lock_guard lock(world.mutex_);
        ++world.waiters_;
      }
      struct Done {
        MpiWorld& world;
        ~Done() {
          {
            std::lock_guard lock(world.mutex_);
            --world.waiters_;
          }
          world.work_.notify_one();
        }
      } done_waiting{world};
      const auto start = std::chrono::steady_clock::now();
      const auto deadline = start + world.timeout_;
      std::chrono::microseconds pause(0);
      for (;;) {
        int done = 0;
        int status = MPI_SUCCESS;
        {
          std::lock_guard lock(world.mutex_);
          status = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
        }
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
  std::mutex mutex_;  // held by every MPI call after construction
  std::deque<Pending*> in_flight_;  // started all-reduces, oldest first, until their Pending goes
  std::chrono::microseconds progress_period_{50};
  std::condition_variable work_;
  int waiters_ = 0;  // threads in Pending::wait
  bool stopping_ = false;
  int rank_ = 0;
  int size_ = 1;
  std::thread progress_thread_;  // last: it starts when everything above is ready
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
