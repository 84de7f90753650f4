"""Reference values of tests/unit/portable_random_test.cc, computed without C++: MT19937-64 as
its paper defines it (Nishimura, Matsumoto 2000; checked against the C++ standard's required
10000th output), then the draws of runtime/common/portable_random.h written out again in Python.
Run: .venv/bin/python scripts/portable_random_reference.py"""
import math

import numpy as np

MASK64 = 2**64 - 1


class MersenneTwister64:
    def __init__(self, seed):
        self.state = [seed & MASK64]
        for i in range(1, 312):
            previous = self.state[-1]
            self.state.append((6364136223846793005 * (previous ^ (previous >> 62)) + i) & MASK64)
        self.index = 312

    def __call__(self):
        if self.index >= 312:
            for k in range(312):
                x = (self.state[k] & 0xFFFFFFFF80000000) | (self.state[(k + 1) % 312] & 0x7FFFFFFF)
                shifted = (x >> 1) ^ (0xB5026F5AA96619E9 if x & 1 else 0)
                self.state[k] = self.state[(k + 156) % 312] ^ shifted
            self.index = 0
        y = self.state[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & MASK64


def unit(engine):
    return (engine() >> 11) * 2.0**-53


def normal(engine, mean, stddev):
    radius_draw = 1.0 - unit(engine)
    angle_draw = unit(engine)
    return mean + stddev * math.sqrt(-2.0 * math.log(radius_draw)) * math.cos(2.0 * math.pi * angle_draw)


def index_below(engine, n):
    biased_below = (2**64 - n) % n
    draw = engine()
    while draw < biased_below:
        draw = engine()
    return draw % n


def main():
    engine = MersenneTwister64(5489)
    for _ in range(9999):
        engine()
    assert engine() == 9981545732273789042  # [rand.predef]: the standard's check of mt19937_64
    engine = MersenneTwister64(42)
    print("unit(seed 42):", [repr(unit(engine)) for _ in range(3)])
    engine = MersenneTwister64(42)
    print("normal(seed 42, mean 1.5, stddev 2):", [repr(normal(engine, 1.5, 2.0)) for _ in range(3)])
    engine = MersenneTwister64(7)
    print("index_below(seed 7, 10):", [index_below(engine, 10) for _ in range(10)])
    keep = 1.0 - float(np.float32(0.3))  # Dropout's ratio is a float tensor
    engine = MersenneTwister64(1234)
    print("Dropout mask (seed 1234, ratio 0.3, 32 values):",
          "".join("1" if unit(engine) < keep else "0" for _ in range(32)))


if __name__ == "__main__":
    main()
