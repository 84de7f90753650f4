"""Parameter initializers (training/nn/init.h; torch.nn.init and Keras initializers).

Two spellings of the same C++ initializer: `glorot_uniform(shape, seed=1)` makes a tensor, and
`GlorotUniform(seed=1)` is an initializer object that layers take (Linear(4, 8,
weight_init=GlorotUniform(seed=1))) and that makes a tensor when called with a shape. With a seed
it gives the same values at every call; without one it draws a seed from the generator that
manual_seed(seed) resets, so a whole model's initial weights follow from one seed.
"""
from onyx import _onyx

_nn = _onyx.nn


def manual_seed(seed):
    """Resets the generator unseeded initializers and Dropout draw their seeds from."""
    _nn.manual_seed(int(seed))


def fans(shape):
    """(fan_in, fan_out) as torch computes them."""
    return _nn.fans_of(list(shape))


def Zeros():  # noqa: N802 - Keras' names
    return _nn.init_zeros()


def Ones():  # noqa: N802
    return _nn.init_ones()


def Constant(value):  # noqa: N802
    return _nn.init_constant(float(value))


def Uniform(low=-0.05, high=0.05, seed=None):  # noqa: N802
    return _nn.init_uniform(float(low), float(high), seed)


def Normal(mean=0.0, std=0.05, seed=None):  # noqa: N802
    return _nn.init_normal(float(mean), float(std), seed)


def GlorotUniform(seed=None):  # noqa: N802
    """Uniform in +-sqrt(6 / (fan_in + fan_out)) (Xavier)."""
    return _nn.init_glorot_uniform(seed)


def GlorotNormal(seed=None):  # noqa: N802
    return _nn.init_glorot_normal(seed)


def HeUniform(seed=None):  # noqa: N802
    """Uniform in +-sqrt(6 / fan_in) (Kaiming, for ReLU)."""
    return _nn.init_he_uniform(seed)


def HeNormal(seed=None):  # noqa: N802
    return _nn.init_he_normal(seed)


def FanInUniform(seed=None):  # noqa: N802
    """torch's default for Linear and Conv weights and biases: uniform in +-1/sqrt(fan_in)."""
    return _nn.init_fan_in_uniform(seed)


def zeros(shape):
    return Zeros()(list(shape))


def ones(shape):
    return Ones()(list(shape))


def constant(shape, value):
    return Constant(value)(list(shape))


def uniform(shape, low=-0.05, high=0.05, seed=None):
    return Uniform(low, high, seed)(list(shape))


def normal(shape, mean=0.0, std=0.05, seed=None):
    return Normal(mean, std, seed)(list(shape))


def glorot_uniform(shape, seed=None):
    return GlorotUniform(seed)(list(shape))


def glorot_normal(shape, seed=None):
    return GlorotNormal(seed)(list(shape))


def he_uniform(shape, seed=None):
    return HeUniform(seed)(list(shape))


def he_normal(shape, seed=None):
    return HeNormal(seed)(list(shape))


def fan_in_uniform(shape, seed=None):
    return FanInUniform(seed)(list(shape))


# torch's names
xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal = glorot_uniform, glorot_normal, he_uniform, he_normal
