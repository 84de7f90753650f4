"""`python -m onyx VERB ...`: the onyx CLI (run, inspect, test, bench, gradient, train), the
binary installed with the package, so that its output and exit status are the CLI's own."""
import os
import sys

from onyx.cli import binary_path


def main():
    binary = binary_path()
    os.execv(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    main()
