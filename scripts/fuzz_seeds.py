#!/usr/bin/env python3
"""Writes the seed corpus of one fuzz target (scripts/fuzz.sh) into a folder.

The tensor_files and data_readers targets read a format selector first (tests/fuzz/fuzz_entries.cc):
their seeds are the real files with that byte in front.
usage: fuzz_seeds.py TARGET OUT_DIR [CHECKPOINT...]"""
import glob
import gzip
import hashlib
import io
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_SEED = 1 << 20  # libFuzzer's -max_len default follows the largest seed: keep them small


def put(out, data, prefix=b""):
    data = prefix + data
    if len(data) <= MAX_SEED:
        with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)


def files(patterns):
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            with open(path, "rb") as f:
                yield f.read()


def main():
    target, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    node_dirs = [os.path.join(ROOT, ".cache/onnx-node/*"), "/usr/share/libonnx-testdata/data/node/*"]
    if target in ("model_run", "model_mutate"):
        for data in files([d + "/model.onnx" for d in node_dirs] + [os.path.join(ROOT, "models/*.onnx")]):
            put(out, data)
    elif target == "tensor_files":
        for data in files([d + "/test_data_set_0/*.pb" for d in node_dirs]):
            put(out, data, b"\x00")
        for array in (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64),
                      np.array(3.5), np.zeros((2, 0), np.uint8), np.ones((2, 2), np.float16)):
            buf = io.BytesIO()
            np.save(buf, array)
            put(out, buf.getvalue(), b"\x03")
            for savez in (np.savez, np.savez_compressed):
                buf = io.BytesIO()
                savez(buf, input=array, label=np.zeros(array.shape[:1] or (1,), np.int64))
                put(out, buf.getvalue(), b"\x04")
    elif target == "data_readers":
        for text in ("a,b,label\n1,2,0\n3.5,-4,1\n", "x,label\n1e3,2\n,3\n", "label\n0\n",
                     "a,label\r\n1,2\r\n", "a,b,label\n\"1\",2,nan\n"):
            put(out, text.encode(), b"\x00")
        images = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
        idx3 = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape) + images.tobytes()
        idx1 = bytes([0, 0, 8, 1]) + (2).to_bytes(4, "big") + bytes([1, 7])
        for data in (idx3, idx1, gzip.compress(idx3), gzip.compress(idx1)):
            put(out, data, b"\x01")
    elif target == "checkpoint":
        for data in files(sys.argv[3:]):
            put(out, data)
    else:
        sys.exit(f"fuzz_seeds.py: unknown target {target}")


if __name__ == "__main__":
    main()
