// Intra-op parallelism on the one OpenMP pool that oneDNN also uses: two pools on few cores
// fight each other, so onyx never starts threads of its own for kernels.
#pragma once

#include <algorithm>
#include <cstdint>

namespace onyx {

// Calls body(begin, end) over [0, count) split into chunks of at least `grain` items, on up to
// `threads` threads. Small ranges run inline: a parallel region costs microseconds.
template <typename Body>
void parallel_for(int64_t count, int64_t grain, int threads, const Body& body) {
  if (count <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = std::min<int64_t>(threads, (count + grain - 1) / grain);
  if (chunks <= 1) {
    body(int64_t{0}, count);
    return;
  }
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    int64_t begin = count * chunk / chunks;
    int64_t end = count * (chunk + 1) / chunks;
    body(begin, end);
  }
}

}  // namespace onyx
