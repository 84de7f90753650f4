"""pytest checks of the onyx CLI (build/onyx, or $ONYX_BIN). A missing binary fails every test:
these checks are part of the build's contract, so they never skip."""
import os

import numpy as np
import pytest

from cli_helpers import onyx_path


@pytest.fixture(autouse=True)
def onyx_binary():
    path = onyx_path()
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing or not executable: build onyx first (scripts/setup.sh)")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
