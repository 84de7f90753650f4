// The MPI communicator's factory, apart from its implementation (mpi_communicator.cc, built only
// when CMake finds MPI), so that no header others include needs mpi.h.
#pragma once

#include <chrono>
#include <memory>

#include "training/distributed/communicator.h"

namespace onyx::training::distributed {

// Initializes MPI (once per process; finalized at exit) and returns MPI_COMM_WORLD as a
// communicator whose collectives give up after `timeout`. Throws in builds without MPI.
std::shared_ptr<Communicator> make_mpi_world_communicator(std::chrono::milliseconds timeout);

}  // namespace onyx::training::distributed
