// The bookkeeping of the CUDA caching allocator, apart from CUDA itself: size classes, free
// lists, which stream a cached block may be reused on, and the memory limit. The device side
// (cudaMalloc, events) is a Backend template parameter, so tests/cuda/block_pool_test.cc checks
// all of this on a machine without a GPU through a malloc-based backend.
//
// Stream-ordered reuse: a block freed on stream S may be handed out again at once for work on
// S (later work on S runs after every use of the block), but for another stream only once an
// event ("fence") recorded on S at free time has completed.
//
// Backend interface (all called with the pool's mutex held):
//   using Stream = ...; using Fence = ...;       // cheap copyable handles
//   void* allocate(size_t bytes);                // nullptr when the device is out of memory
//   void deallocate(void* block) noexcept;
//   Fence record_fence(Stream stream);           // marks the point all queued work reaches
//   bool fence_done(Fence fence);
//   void release_fence(Fence fence) noexcept;    // the fence is no longer needed
//   void synchronize() noexcept;                 // waits for all work on the device
//   int device_index() const;                    // for messages
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

#include "runtime/common/error.h"
#include "runtime/tensor/caching_allocator.h"

namespace onyx::cuda {

// "CUDA out of memory on cuda:0: needed N bytes, M in use, limit L" (L "none" when unlimited).
inline std::string out_of_memory_text(int device, size_t needed, size_t in_use, size_t limit) {
  return detail::concat("CUDA out of memory on cuda:", device, ": needed ", needed, " bytes, ", in_use,
                        " in use, limit ", limit == 0 ? std::string("none") : std::to_string(limit));
}

template <typename Backend>
class BlockPool {
 public:
  using Stream = typename Backend::Stream;
  using Fence = typename Backend::Fence;

  // `limit`: most bytes reserved from the device at once (cached blocks included); 0: none.
  BlockPool(Backend backend, size_t limit) : backend_(std::move(backend)), limit_(limit) {}
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  // Every block must have come back (live blocks keep their pool alive), so what is left is
  // cache; freeing device memory waits for the device anyway.
  ~BlockPool() { release_cached_locked(); }

  // Same classes as the host caching allocator: powers of two to 1 MiB, 1/8 octaves above.
  static size_t size_class(size_t bytes) { return CachingAllocator::size_class(bytes); }

  // A block of at least `bytes` for work ordered on `stream`; its size class is returned in
  // `rounded`. Throws kRuntimeFailure with the out-of-memory message when neither the cache
  // nor the device can serve it within the limit.
  void* take(size_t bytes, Stream stream, size_t& rounded) {
    rounded = size_class(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    if (void* cached = take_cached_locked(rounded, stream)) return cached;
    bool over_limit = limit_ != 0 && reserved_ + rounded > limit_;
    void* block = over_limit ? nullptr : backend_.allocate(rounded);
    if (block == nullptr && cached_ > 0) {
      // Cached blocks of other sizes are memory the device could use: give them back and retry.
      backend_.synchronize();
      release_cached_locked();
      over_limit = limit_ != 0 && reserved_ + rounded > limit_;
      block = over_limit ? nullptr : backend_.allocate(rounded);
    }
    if (block == nullptr) {
      throw Error(ErrorCode::kRuntimeFailure,
                  out_of_memory_text(backend_.device_index(), rounded, in_use_, limit_));
    }
    reserved_ += rounded;
    in_use_ += rounded;
    peak_ = std::max(peak_, reserved_);
    return block;
  }

  // Returns a block taken with size class `rounded`, last used on `stream`.
  void give_back(void* block, size_t rounded, Stream stream) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    Fence fence{};
    bool fenced = false;
    try {
      fence = backend_.record_fence(stream);
      fenced = true;
    } catch (...) {
      // No fence (a failed context): the block may still be in use, so never reuse it.
      backend_.synchronize();
    }
    free_[rounded].push_back(CachedBlock{block, stream, fence, fenced});
    cached_ += rounded;
    in_use_ -= rounded;
  }

  // Frees every cached block back to the device (after waiting for the device).
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    backend_.synchronize();
    release_cached_locked();
  }

  size_t cached_bytes() const { return locked([&] { return cached_; }); }
  size_t reserved_bytes() const { return locked([&] { return reserved_; }); }
  size_t in_use_bytes() const { return locked([&] { return in_use_; }); }
  // The most bytes ever reserved from the device at once.
  size_t peak_bytes() const { return locked([&] { return peak_; }); }
  size_t limit() const { return limit_; }
  Backend& backend() { return backend_; }

 private:
  struct CachedBlock {
    void* pointer;
    Stream stream;
    Fence fence;
    bool fenced;
  };

  template <typename Fn>
  size_t locked(Fn fn) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return fn();
  }

  void* take_cached_locked(size_t rounded, Stream stream) {
    auto it = free_.find(rounded);
    if (it == free_.end() || it->second.empty()) return nullptr;
    std::vector<CachedBlock>& blocks = it->second;
    // Newest first: a block just freed on the same stream is likely still in L2.
    for (size_t i = blocks.size(); i-- > 0;) {
      CachedBlock& candidate = blocks[i];
      bool usable = candidate.stream == stream || (candidate.fenced && backend_.fence_done(candidate.fence));
      if (!usable) continue;
      void* pointer = candidate.pointer;
      if (candidate.fenced) backend_.release_fence(candidate.fence);
      blocks.erase(blocks.begin() + static_cast<std::ptrdiff_t>(i));
      cached_ -= rounded;
      in_use_ += rounded;
      return pointer;
    }
    return nullptr;
  }

  // Callers have made sure no queued work still uses a cached block.
  void release_cached_locked() noexcept {
    for (auto& [rounded, blocks] : free_) {
      for (CachedBlock& block : blocks) {
        if (block.fenced) backend_.release_fence(block.fence);
        backend_.deallocate(block.pointer);
        reserved_ -= rounded;
      }
    }
    free_.clear();
    cached_ = 0;
  }

  Backend backend_;
  size_t limit_;
  mutable std::mutex mutex_;
  std::map<size_t, std::vector<CachedBlock>> free_;  // by size class
  size_t reserved_ = 0;
  size_t cached_ = 0;
  size_t in_use_ = 0;
  size_t peak_ = 0;
};

}  // namespace onyx::cuda
