"""onyx as an ONNX backend (onnx.backend.base.Backend), so that onnx's own test runner,
onnx.backend.test.BackendTest, runs its suites against onyx (tests/python/test_onnx_backend.py):

    import onyx.backend
    outputs = onyx.backend.run_model(model_proto, [x])
    rep = onyx.backend.prepare(model_proto, "CPU"); rep.run([x])

Sessions are onyx.InferenceSession objects; keyword arguments of prepare() that name a
SessionOptions attribute (intra_op_num_threads, graph_optimization_level, ...) set it, the rest
(the runner's rtol/atol) are the runner's own.
"""
import numpy as np
import onnx
import onnx.backend.base
import onnx.helper
import onnx.shape_inference

from onyx import _onyx
from onyx.session import InferenceSession, SessionOptions, _provider_specs, get_available_providers

# A device as onnx names it ("CPU", "CUDA", "CUDA:1") -> onnxruntime's provider name.
_DEVICE_PROVIDERS = {"CPU": "CPUExecutionProvider", "CUDA": "CUDAExecutionProvider"}


def _providers_for(device):
    kind, _, index = str(device).upper().partition(":")
    provider = _DEVICE_PROVIDERS.get(kind)
    if provider is None or provider not in get_available_providers():
        raise ValueError(f"onyx has no provider for device {device!r} in this build (providers: "
                         f"{', '.join(get_available_providers())})")
    if provider == "CPUExecutionProvider":
        return [provider]
    return [(provider, {"device_id": int(index or 0)}), "CPUExecutionProvider"]


class OnyxBackendRep(onnx.backend.base.BackendRep):
    """A prepared model: run(inputs) takes the inputs in the order of the model's inputs (those
    without an initializer; all graph inputs, in graph order, when there are more values than
    those), or a dict by name, and returns the outputs in model order."""

    def __init__(self, session, graph_input_names=None):
        self.session = session
        self._input_names = [arg.name for arg in session.get_inputs()]
        self._graph_input_names = graph_input_names or self._input_names

    def run(self, inputs, **kwargs):
        if isinstance(inputs, dict):
            feeds = inputs
        else:
            if not isinstance(inputs, (list, tuple)):
                inputs = [inputs]
            names = self._input_names if len(inputs) <= len(self._input_names) else self._graph_input_names
            feeds = dict(zip(names, inputs))
        return self.session.run(None, feeds)


class OnyxBackend(onnx.backend.base.Backend):
    @classmethod
    def supports_device(cls, device):
        """True when this build has the device's provider and the machine the device (a
        build with the CUDA provider on a machine without a GPU supports only the CPU)."""
        try:
            providers = _providers_for(device)
        except ValueError:
            return False
        return all(_onyx.provider_error(spec) == "" for spec in _provider_specs(providers, None))

    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        options = SessionOptions()
        for name, value in kwargs.items():
            if hasattr(SessionOptions, name):
                setattr(options, name, value)
        if isinstance(model, (bytes, str)):
            model_bytes, graph_inputs = model, None
        else:
            model_bytes, graph_inputs = model.SerializeToString(), [value.name for value in model.graph.input]
        return OnyxBackendRep(InferenceSession(model_bytes, options, providers=_providers_for(device)), graph_inputs)

    @classmethod
    def run_model(cls, model, inputs, device="CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node, inputs, device="CPU", outputs_info=None, **kwargs):
        """Runs one NodeProto on `inputs` (arrays, in the node's input order): a one-node model
        with the inputs' types, whose output types come from outputs_info ((dtype, shape)
        pairs) or from onnx's shape inference."""
        opset = kwargs.pop("opset_version", None) or onnx.defs.onnx_opset_version()
        graph_inputs = []
        present = [name for name in node.input if name]
        for name, value in zip(present, inputs):
            array = np.asarray(value)
            graph_inputs.append(onnx.helper.make_tensor_value_info(
                name, onnx.helper.np_dtype_to_tensor_dtype(array.dtype), array.shape))
        graph_outputs = []
        for index, name in enumerate(node.output):
            if not name:
                continue
            if outputs_info is not None:
                dtype, shape = outputs_info[index]
                graph_outputs.append(onnx.helper.make_tensor_value_info(
                    name, onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), shape))
            else:
                graph_outputs.append(onnx.helper.make_empty_tensor_value_info(name))
        domain_opsets = [onnx.helper.make_opsetid("", opset)]
        if node.domain not in ("", "ai.onnx"):
            domain_opsets.append(onnx.helper.make_opsetid(node.domain, 1))
        model = onnx.helper.make_model(onnx.helper.make_graph([node], "run_node", graph_inputs, graph_outputs),
                                       opset_imports=domain_opsets)
        if outputs_info is None:
            model = onnx.shape_inference.infer_shapes(model)
            inferred = {info.name: info for info in model.graph.value_info}
            for output in model.graph.output:
                if not output.type.HasField("tensor_type") and output.name in inferred:
                    output.CopyFrom(inferred[output.name])
        return cls.run_model(model, list(inputs), device, **kwargs)


prepare = OnyxBackend.prepare
run_model = OnyxBackend.run_model
run_node = OnyxBackend.run_node
supports_device = OnyxBackend.supports_device
is_compatible = OnyxBackend.is_compatible
