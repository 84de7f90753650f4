"""Where the onyx CLI binary of this installation is (python -m onyx runs it)."""
import os


def binary_path():
    """The `onyx` executable installed with the package (site-packages/onyx/bin/onyx)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "onyx")
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"the onyx CLI is not installed beside the package ({path} is missing): "
                                f"install the package with pip install . from the checkout")
    return path
