"""onnxruntime's inference API over onyx's InferenceSession (the native onyx._onyx.Session).

Names, signatures and value conventions follow onnxruntime's Python API: NodeArg shapes hold
ints, strings for symbolic dims and None for unknown ones; types read 'tensor(float)'; run()
returns NumPy arrays, lists for sequences and None for empty optionals. What differs: onyx
reports errors as onyx.OnyxError subclasses (InvalidModel, InvalidArgument, Unsupported,
RuntimeFailure) with the messages of the onyx CLI.
"""
import enum
import os

from onyx import _onyx


class GraphOptimizationLevel(enum.IntEnum):
    """onnxruntime's levels. onyx has three (0, 1, 2: see SessionOptions in
    runtime/session/inference_session.h): EXTENDED and ALL both mean onyx's level 2."""
    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_ALL = 99


class ExecutionMode(enum.IntEnum):
    """onnxruntime's execution modes; onyx runs one node at a time, each on intra-op threads,
    so both modes run the same way."""
    ORT_SEQUENTIAL = 0
    ORT_PARALLEL = 1


_ONYX_LEVEL = {GraphOptimizationLevel.ORT_DISABLE_ALL: 0, GraphOptimizationLevel.ORT_ENABLE_BASIC: 1,
               GraphOptimizationLevel.ORT_ENABLE_EXTENDED: 2, GraphOptimizationLevel.ORT_ENABLE_ALL: 2}


def _non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise _onyx.InvalidArgument(f"{name} must be 0 or more, not {value}")
    return value


class SessionOptions:
    """Options of an InferenceSession, as onnxruntime names them.

    intra_op_num_threads: threads per node (0: one per core). graph_optimization_level: a
    GraphOptimizationLevel. enable_profiling: trace the session's creation and every node
    of every run; end_profiling() writes the Chrome trace (runtime/session/profiler.h), named
    profile_file_prefix + date + .json, and returns its name. register_custom_ops_library(path):
    an onyx custom-op plug-in (runtime/extensions/onyx_custom_op_abi.h). memory_limit (onyx's
    own): the most bytes one tensor may take, 0 for the machine's memory.
    inter_op_num_threads, execution_mode, log_severity_level and log_verbosity_level are
    accepted as onnxruntime scripts set them and change nothing: onyx runs one node at a time
    and logs nothing.
    """

    __slots__ = ("_intra_op_num_threads", "inter_op_num_threads", "_graph_optimization_level",
                 "execution_mode", "enable_profiling", "profile_file_prefix", "log_severity_level",
                 "log_verbosity_level", "_memory_limit", "_custom_op_libraries")

    def __init__(self):
        self._intra_op_num_threads = 0
        self.inter_op_num_threads = 0
        self._graph_optimization_level = GraphOptimizationLevel.ORT_ENABLE_ALL
        self.execution_mode = ExecutionMode.ORT_SEQUENTIAL
        self.enable_profiling = False
        self.profile_file_prefix = "onyx_profile"
        self.log_severity_level = 2
        self.log_verbosity_level = 0
        self._memory_limit = 0
        self._custom_op_libraries = []

    @property
    def intra_op_num_threads(self):
        return self._intra_op_num_threads

    @intra_op_num_threads.setter
    def intra_op_num_threads(self, value):
        self._intra_op_num_threads = _non_negative_int("intra_op_num_threads", value)

    @property
    def memory_limit(self):
        return self._memory_limit

    @memory_limit.setter
    def memory_limit(self, value):
        self._memory_limit = _non_negative_int("memory_limit", value)

    @property
    def graph_optimization_level(self):
        return self._graph_optimization_level

    @graph_optimization_level.setter
    def graph_optimization_level(self, value):
        try:
            self._graph_optimization_level = GraphOptimizationLevel(value)
        except ValueError:
            names = ", ".join(f"{level.name} ({level.value})" for level in GraphOptimizationLevel)
            raise _onyx.InvalidArgument(f"graph_optimization_level must be one of {names}, not {value!r}") from None

    def register_custom_ops_library(self, path):
        """Loads the custom-op library at `path` into sessions made with these options."""
        self._custom_op_libraries.append(os.path.abspath(os.fspath(path)))


class RunOptions:
    """onnxruntime's per-run options, accepted by run(); onyx has none that change a run."""

    __slots__ = ("log_severity_level", "log_verbosity_level", "run_tag")

    def __init__(self):
        self.log_severity_level = 2
        self.log_verbosity_level = 0
        self.run_tag = ""


class NodeArg:
    """A graph input or output: name, shape (ints, strings for symbolic dims, None for unknown
    ones) and type ('tensor(float)', 'seq(tensor(int64))', ...)."""

    __slots__ = ("name", "shape", "type")

    def __init__(self, name, shape, type):  # noqa: A002 (onnxruntime's name)
        self.name, self.shape, self.type = name, shape, type

    def __repr__(self):
        return f"NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape!r})"


class ModelMetadata:
    """What the model says about itself (onnxruntime's get_modelmeta()). As in onnxruntime, an
    unset model_version reads as 2**63 - 1; onyx cannot tell an unset version from an explicit
    0, so 0 reads so too."""

    __slots__ = ("producer_name", "producer_version", "graph_name", "graph_description", "domain",
                 "description", "version", "custom_metadata_map")

    def __init__(self, fields):
        for name in self.__slots__:
            setattr(self, name, fields[name])


def _ort_name(onyx_name):
    """'cpu' (or the CPU provider's own 'CPU') -> 'CPUExecutionProvider'."""
    special = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
    return special.get(onyx_name.lower(), onyx_name.capitalize() + "ExecutionProvider")


def _onyx_name(ort_name):
    """'CUDAExecutionProvider' -> 'cuda'; onyx's own spellings ('cuda:1') pass through."""
    if ort_name.endswith("ExecutionProvider"):
        return ort_name[: -len("ExecutionProvider")].lower()
    return ort_name


def _provider_specs(providers, provider_options):
    """onnxruntime's providers (names, or (name, options) pairs, with provider_options beside)
    as onyx's provider specs: "cuda:1,memory_limit=2000000000" (providers/provider_factory.h)."""
    if providers is None:
        return ["cpu"]
    if isinstance(providers, str):
        raise TypeError("providers must be a list of provider names, not a str")
    if provider_options is not None and len(provider_options) != len(providers):
        raise _onyx.InvalidArgument(f"provider_options has {len(provider_options)} entries for "
                                    f"{len(providers)} providers")
    specs = []
    for index, provider in enumerate(providers):
        name, options = (provider if isinstance(provider, tuple) else (provider, {}))
        options = dict(options)
        if provider_options is not None:
            options.update(provider_options[index])
        spec = _onyx_name(name)
        if "device_id" in options:
            spec += f":{int(options.pop('device_id'))}"
        spec += "".join(f",{key}={value}" for key, value in options.items())
        specs.append(spec)
    return specs


def get_available_providers():
    """This build's providers, onnxruntime-style ('CPUExecutionProvider' last)."""
    names = _onyx.available_providers()
    return [_ort_name(name) for name in names if name != "cpu"] + [_ort_name("cpu")]


def get_device():
    return "GPU" if "cuda" in _onyx.available_providers() else "CPU"


class InferenceSession:
    """onyx's InferenceSession with onnxruntime's interface.

    path_or_bytes: a model file's path or the serialized model (bytes, or an onnx.ModelProto).
    Feeds are read without a copy when they are C-contiguous arrays of the input's element type;
    run() releases the GIL while the model runs, so threads may share one session.
    """

    def __init__(self, path_or_bytes, sess_options=None, providers=None, provider_options=None, **kwargs):
        if kwargs:
            raise TypeError(f"InferenceSession() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            model = bytes(path_or_bytes)
        elif isinstance(path_or_bytes, (str, os.PathLike)):
            model = os.fspath(path_or_bytes)
        elif hasattr(path_or_bytes, "SerializeToString"):
            model = path_or_bytes.SerializeToString()
        else:
            raise TypeError(f"path_or_bytes must be a path, bytes or an onnx.ModelProto, not "
                            f"{type(path_or_bytes).__name__}")
        self._options = sess_options if sess_options is not None else SessionOptions()
        options = self._options
        self._session = _onyx.Session(
            model, threads=options.intra_op_num_threads,
            optimization_level=_ONYX_LEVEL[options.graph_optimization_level],
            providers=_provider_specs(providers, provider_options),
            custom_op_libraries=list(options._custom_op_libraries), memory_limit=options.memory_limit,
            profiling=bool(options.enable_profiling), profile_file_prefix=str(options.profile_file_prefix))
        self._inputs = [NodeArg(*fields) for fields in self._session.inputs()]
        self._outputs = [NodeArg(*fields) for fields in self._session.outputs()]
        self._overridable = [NodeArg(*fields) for fields in self._session.overridable_initializers()]
        # The native run itself, so that a call costs no Python frame (the per-call overhead
        # scripts/bench_python_overhead.py measures); the method below documents it.
        self.run = self._session.run

    def run(self, output_names, input_feed, run_options=None):
        """Runs the model on input_feed ({input name: value}) and returns the outputs named
        (all when output_names is None), in that order."""
        return self._session.run(output_names, input_feed, run_options)

    def get_inputs(self):
        return list(self._inputs)

    def get_outputs(self):
        return list(self._outputs)

    def get_overridable_initializers(self):
        return list(self._overridable)

    def get_modelmeta(self):
        return ModelMetadata(self._session.metadata())

    def get_providers(self):
        return [_ort_name(name) for name in self._session.providers()]

    def get_provider_options(self):
        return {name: {} for name in self.get_providers()}

    def get_session_options(self):
        return self._options

    def end_profiling(self):
        """Writes the Chrome trace gathered since the session began (enable_profiling): its
        creation phases and every node of every run, and returns its file name
        (profile_file_prefix + date + .json); "" when profiling is off or already ended."""
        return self._session.end_profiling()
