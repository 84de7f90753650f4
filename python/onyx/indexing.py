"""NumPy-style basic indexing of onyx.Tensor (ints, slices, None, ...) and indexing with an
integer tensor or array along one axis, written as Slice / Squeeze / Unsqueeze / Gather ops so
that it traces and records on a GradientTape like any op."""
import numpy as np

from onyx import _onyx, ops

_BIG = np.iinfo(np.int64).max
_SMALL = np.iinfo(np.int64).min


def _ints(values):
    return _onyx.Tensor(np.asarray(values, dtype=np.int64))


def _expand(key, rank):
    key = key if isinstance(key, tuple) else (key,)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if used > rank:
        raise IndexError(f"too many indices for a tensor of rank {rank}: {used} were given")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        return key[:at] + (slice(None),) * (rank - used) + key[at + 1:]
    return key + (slice(None),) * (rank - used)


def getitem(tensor, key):
    key = _expand(key, tensor.ndim)
    starts, ends, axes, steps, squeezed, inserted, gathers = [], [], [], [], [], [], []
    axis = 0   # axis of the input
    out = 0    # axis of the result before squeezing
    for item in key:
        if item is None:
            inserted.append(out)
            out += 1
            continue
        if isinstance(item, (bool, np.bool_)):
            raise IndexError("boolean indices are not supported; use onyx.ops.Compress or Where")
        if isinstance(item, (int, np.integer)):
            index = int(item)
            dim = tensor.shape[axis]
            if dim is not None and not -dim <= index < dim:
                raise IndexError(f"index {index} is out of bounds for axis {axis} with size {dim}")
            starts.append(index)
            ends.append(index + 1 if index != -1 else _BIG)
            axes.append(axis)
            steps.append(1)
            squeezed.append(out)
        elif isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            if step == 0:
                raise ValueError("slice step cannot be zero")
            if item.start is not None or item.stop is not None or step != 1:
                starts.append(int(item.start) if item.start is not None else (0 if step > 0 else _BIG))
                ends.append(int(item.stop) if item.stop is not None else (_BIG if step > 0 else _SMALL))
                axes.append(axis)
                steps.append(step)
        elif isinstance(item, (_onyx.Tensor, np.ndarray, list)):
            gathers.append((out, item))
        else:
            raise IndexError(f"onyx.Tensor indices must be ints, slices, None, ... or integer tensors, "
                             f"not {type(item).__name__}")
        axis += 1
        out += 1
    result = tensor
    if starts:
        result = ops.Slice(result, _ints(starts), _ints(ends), _ints(axes), _ints(steps))
    if inserted:
        # Unsqueeze at the result's positions: the squeezed axes are still there at this point.
        result = ops.Unsqueeze(result, _ints(inserted))
    for position, index in gathers:
        if len(gathers) > 1:
            raise IndexError("indexing with more than one tensor is not supported; use onyx.ops.GatherND")
        index = index if isinstance(index, _onyx.Tensor) else _onyx.Tensor(np.asarray(index, dtype=np.int64))
        result = ops.Gather(result, index, axis=position)
    if squeezed:
        result = ops.Squeeze(result, _ints(squeezed))
    return result


def iterate(tensor):
    if tensor.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    if tensor.is_symbolic:
        raise _onyx.InvalidArgument(
            "iterating a symbolic tensor in plain Python while tracing: write the loop directly in the "
            "onyx.function (without break/continue/return) so it becomes a Loop node")
    for index in range(len(tensor)):
        yield getitem(tensor, index)
