// Random draws whose values are the same with every C++ standard library. std::mt19937_64's
// output sequence is fixed by the standard, but its distributions (uniform_real_distribution,
// normal_distribution, bernoulli_distribution, ...) are not: libstdc++ and libc++ turn the same
// engine output into different values. Seeded dropout masks, the random ops and generated
// inputs draw through these functions instead, so a seed means the same numbers everywhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace onyx::portable_random {

using Engine = std::mt19937_64;

// Uniform in [0, 1): the engine's top 53 bits as a double's mantissa (exact, no rounding).
inline double unit(Engine& engine) { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }

// Uniform in [low, high).
inline double uniform(Engine& engine, double low, double high) { return low + (high - low) * unit(engine); }

// true with probability p.
inline bool bernoulli(Engine& engine, double p) { return unit(engine) < p; }

// Normal by Box-Muller: two draws per value and no cached spare, so each value depends only on
// the engine's position (a spare kept between calls would make the values depend on call order).
inline double normal(Engine& engine, double mean, double stddev) {
  const double radius_draw = 1.0 - unit(engine);  // (0, 1]: its log is finite
  const double angle_draw = unit(engine);
  return mean + stddev * std::sqrt(-2.0 * std::log(radius_draw)) * std::cos(2.0 * std::numbers::pi * angle_draw);
}

// Uniform integer in [0, n), n > 0, without modulo bias: draws below 2^64 mod n are rejected.
inline uint64_t index_below(Engine& engine, uint64_t n) {
  const uint64_t biased_below = (0 - n) % n;
  uint64_t draw = engine();
  while (draw < biased_below) draw = engine();
  return draw % n;
}

}  // namespace onyx::portable_random
