#include "training/nn/init.h"

#include <cmath>
#include <mutex>

#include "runtime/common/error.h"
#include "runtime/common/portable_random.h"

namespace onyx::nn {

namespace {

std::mutex& global_seed_mutex() {
  static std::mutex mutex;
  return mutex;
}
portable_random::Engine& global_seed_engine() {
  static portable_random::Engine engine(0);
  return engine;
}

using DrawValue = std::function<double(portable_random::Engine&, const Fans&)>;

// Fills a float tensor element by element from one engine seeded once per call.
Initializer drawing_initializer(std::optional<uint64_t> seed, DrawValue draw) {
  return [seed, draw = std::move(draw)](const Shape& shape, const Fans& fans) {
    portable_random::Engine engine(seed ? *seed : next_seed());
    Tensor tensor(DataType::kFloat, shape);
    float* out = tensor.mutable_data<float>();
    for (int64_t i = 0; i < tensor.element_count(); ++i) out[i] = static_cast<float>(draw(engine, fans));
    return tensor;
  };
}

double checked_fan(int64_t fan, const char* which) {
  ONYX_CHECK(fan > 0, ErrorCode::kInvalidArgument, "initializer: ", which, " is ", fan, " (an empty weight?)");
  return static_cast<double>(fan);
}

}  // namespace

Fans fans_of(const Shape& shape) {
  if (shape.empty()) return {1, 1};
  if (shape.size() == 1) return {shape[0], shape[0]};
  int64_t receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return {shape[1] * receptive, shape[0] * receptive};
}

void manual_seed(uint64_t seed) {
  std::lock_guard lock(global_seed_mutex());
  global_seed_engine().seed(seed);
}

uint64_t next_seed() {
  std::lock_guard lock(global_seed_mutex());
  return global_seed_engine()();
}

Initializer constant_init(double value) {
  return [value](const Shape& shape, const Fans&) {
    Tensor tensor(DataType::kFloat, shape);
    float* out = tensor.mutable_data<float>();
    for (int64_t i = 0; i < tensor.element_count(); ++i) out[i] = static_cast<float>(value);
    return tensor;
  };
}
Initializer zeros_init() { return constant_init(0.0); }
Initializer ones_init() { return constant_init(1.0); }

Initializer uniform_init(double low, double high, std::optional<uint64_t> seed) {
  ONYX_CHECK(low <= high, ErrorCode::kInvalidArgument, "uniform initializer: low ", low, " > high ", high);
  return drawing_initializer(seed, [low, high](portable_random::Engine& engine, const Fans&) {
    return portable_random::uniform(engine, low, high);
  });
}

Initializer normal_init(double mean, double stddev, std::optional<uint64_t> seed) {
  ONYX_CHECK(stddev >= 0, ErrorCode::kInvalidArgument, "normal initializer: negative stddev ", stddev);
  return drawing_initializer(seed, [mean, stddev](portable_random::Engine& engine, const Fans&) {
    return portable_random::normal(engine, mean, stddev);
  });
}

Initializer glorot_uniform(std::optional<uint64_t> seed) {
  return drawing_initializer(seed, [](portable_random::Engine& engine, const Fans& fans) {
    const double bound = std::sqrt(6.0 / (checked_fan(fans.in, "fan_in") + checked_fan(fans.out, "fan_out")));
    return portable_random::uniform(engine, -bound, bound);
  });
}

Initializer glorot_normal(std::optional<uint64_t> seed) {
  return drawing_initializer(seed, [](portable_random::Engine& engine, const Fans& fans) {
    const double stddev = std::sqrt(2.0 / (checked_fan(fans.in, "fan_in") + checked_fan(fans.out, "fan_out")));
    return portable_random::normal(engine, 0.0, stddev);
  });
}

Initializer he_uniform(std::optional<uint64_t> seed) {
  return drawing_initializer(seed, [](portable_random::Engine& engine, const Fans& fans) {
    const double bound = std::sqrt(6.0 / checked_fan(fans.in, "fan_in"));
    return portable_random::uniform(engine, -bound, bound);
  });
}

Initializer he_normal(std::optional<uint64_t> seed) {
  return drawing_initializer(seed, [](portable_random::Engine& engine, const Fans& fans) {
    return portable_random::normal(engine, 0.0, std::sqrt(2.0 / checked_fan(fans.in, "fan_in")));
  });
}

Initializer fan_in_uniform(std::optional<uint64_t> seed) {
  return drawing_initializer(seed, [](portable_random::Engine& engine, const Fans& fans) {
    const double bound = 1.0 / std::sqrt(checked_fan(fans.in, "fan_in"));
    return portable_random::uniform(engine, -bound, bound);
  });
}

}  // namespace onyx::nn
