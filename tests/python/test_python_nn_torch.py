"""onyx.nn from Python against PyTorch: each built-in layer, given torch's own weights through
load_state_dict, computes torch's forward (BatchNorm in training and eval mode, with torch's
running statistics); the eager losses equal torch.nn.functional's; and a Python-defined MLP and
a Sequential CNN trained with a GradientTape loop and onyx.nn.SGD / Adam end with torch.optim's
parameters. Every reference number comes from torch (python_nn_torch_reference.py, run with
Debian's python3-torch), none from onyx."""
import os
import subprocess

import numpy as np
import pytest

import onyx
from onyx import nn
from conftest import TORCH_PYTHON

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python_nn_torch_reference.py")
TOLERANCE = dict(rtol=1e-4, atol=1e-5)


def torch_side(*args):
    proc = subprocess.run([TORCH_PYTHON, SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("torch_layers")
    torch_side("layers", folder)

    def load(case):
        data = np.load(folder / f"{case}.npz")
        state = {k[3:]: data[k] for k in data.files if k.startswith("sd/")}
        inputs = [data[f"in/{i}"] for i in range(sum(k.startswith("in/") for k in data.files))]
        outputs = [data[f"out/{i}"] for i in range(sum(k.startswith("out/") for k in data.files))]
        return state, inputs, outputs, data
    return load


def close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), expected, **TOLERANCE)


def loaded(layer, state):
    layer.load_state_dict(state)  # strict: the names are torch's
    return layer


@pytest.mark.parametrize("case, make", [
    ("linear", lambda: nn.Linear(5, 3)),
    ("conv", lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1)),
    ("conv_groups", lambda: nn.Conv2d(4, 6, (3, 2), padding=(2, 1), dilation=2, groups=2, bias=False)),
    ("layernorm", lambda: nn.LayerNorm([4, 5])),
    ("embedding", lambda: nn.Embedding(10, 4)),
])
def test_layer_forward_matches_torch(reference, case, make):
    state, inputs, outputs, _ = reference(case)
    layer = loaded(make(), state)
    close(layer(*inputs), outputs[0])


BATCHNORMS = [("batchnorm2d", lambda: nn.BatchNorm2d(3, momentum=0.2)), ("batchnorm1d", lambda: nn.BatchNorm1d(4))]


@pytest.mark.parametrize("case, make", BATCHNORMS)
def test_batchnorm_train_and_eval_match_torch(reference, case, make):
    state, (x, x2), (y_train, y_eval), data = reference(case)
    layer = loaded(make(), state)
    assert layer.training
    close(layer(x), y_train)  # batch statistics
    close(dict(layer.named_buffers())["running_mean"], data["running_mean"])  # momentum as torch counts it
    # Eval mode normalizes with the running statistics (torch's, so the check is of eval alone).
    layer.load_state_dict(dict(state, running_mean=data["running_mean"], running_var=data["running_var"]))
    layer.eval()
    close(layer(x2), y_eval)
    close(dict(layer.named_buffers())["running_mean"], data["running_mean"])  # eval leaves them


@pytest.mark.parametrize("case, make", BATCHNORMS[:1])
def test_batchnorm_running_variance_matches_torch(reference, case, make):
    state, (x, _), _, data = reference(case)
    layer = loaded(make(), state)
    layer(x)
    close(dict(layer.named_buffers())["running_var"], data["running_var"])


def test_lstm_and_gru_match_torch(reference):
    state, (x,), (out, h, c), _ = reference("lstm")
    lstm = loaded(nn.LSTM(5, 6, num_layers=2), state)
    close(lstm(x), out)
    output, hs, cs = lstm.run(x)
    close(output, out)
    close(np.stack([np.asarray(t) for t in hs]), h)
    close(np.stack([np.asarray(t) for t in cs]), c)
    state, (x,), (out, h), _ = reference("gru")
    gru = loaded(nn.GRU(5, 6), state)
    output, hs, cs = gru.run(x)
    close(output, out)
    close(hs[0], h[0])
    assert cs == []


def test_multi_head_attention_matches_torch(reference):
    state, (q, kv, mask), (self_attention, cross, masked), _ = reference("mha")
    mha = loaded(nn.MultiheadAttention(8, 2), state)
    assert sorted(n for n, _ in mha.named_parameters()) == ["in_proj_bias", "in_proj_weight", "out_proj.bias",
                                                            "out_proj.weight"]
    close(mha(q), self_attention)
    close(mha(q, kv, kv), cross)
    close(mha.attend(q, kv, kv, mask), masked)
    close(mha(q, kv, kv, mask), masked)


def test_pooling_matches_torch(reference):
    _, (x, x7), outputs, _ = reference("pooling")
    layers = [nn.MaxPool2d(3, stride=2, padding=1), nn.AvgPool2d(2),
              nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), nn.GlobalAvgPool2d()]
    for layer, expected in zip(layers, outputs):
        close(layer(x), expected)
    close(nn.MaxPool2d(2, ceil_mode=True)(x7), outputs[4])


def test_activations_match_torch(reference):
    _, (x, x3), outputs, _ = reference("activations")
    layers = [nn.ReLU(), nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.GELU("tanh"), nn.Softmax(1),
              nn.LogSoftmax(0)]
    for layer, expected in zip(layers, outputs):
        close(layer(x), expected)
    close(nn.Flatten()(x3), outputs[8])


def test_losses_match_torch(reference):
    _, (p, t, logits, labels, weights, labels_ignored, binary), expected, _ = reference("losses")
    actual = [nn.mse_loss(p, t), nn.mse_loss(p, t, reduction="sum"), nn.mse_loss(p, t, reduction="none"),
              nn.l1_loss(p, t), nn.huber_loss(p, t, delta=0.5), nn.binary_cross_entropy_with_logits(p, binary),
              nn.cross_entropy(logits, labels), nn.cross_entropy(logits, labels, weight=weights),
              nn.cross_entropy(logits, labels, label_smoothing=0.1),
              nn.cross_entropy(logits, labels_ignored, ignore_index=-100),
              nn.nll_loss(onyx.ops.LogSoftmax(onyx.Tensor(logits), axis=1), labels)]
    for index, (value, reference_value) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(np.asarray(value), reference_value, rtol=1e-5, atol=1e-6, err_msg=f"loss {index}")


class MLP(nn.Module):
    """A model written in Python (the C++ layers inside): torch's MLP of the reference script."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(onyx.ops.Relu(self.fc1(x)))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.Tanh(),
                         nn.Flatten(), nn.Linear(32, 3))


@pytest.mark.parametrize("optimizer_name", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_tape_loop_with_onyx_optimizers_matches_torch_optim(tmp_path, kind, optimizer_name):
    torch_side("train", kind, tmp_path)
    data = np.load(tmp_path / f"train_{kind}.npz")
    model = MLP() if kind == "mlp" else cnn()
    model.load_state_dict({k[5:]: data[k] for k in data.files if k.startswith("init/")})
    optimizer = (nn.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer_name == "sgd"
                 else nn.Adam(model.parameters(), lr=0.01))
    losses = []
    for step in range(len(data["x"])):
        with onyx.GradientTape() as tape:
            tape.watch(*model.parameters())
            loss = nn.cross_entropy(model(data["x"][step]), data["y"][step])
        grads = tape.gradient(loss, model.parameters())
        if step % 2:
            optimizer.apply_gradients(zip(grads, model.parameters()))  # Keras' pairs
        else:
            optimizer.apply_gradients(grads, model.parameters())
        losses.append(float(np.asarray(loss)))
    np.testing.assert_allclose(losses, data[f"{optimizer_name}_losses"], **TOLERANCE)
    assert optimizer.step_count == len(data["x"])
    trained = model.state_dict()
    expected = {k[len(optimizer_name) + 1:]: data[k] for k in data.files if k.startswith(optimizer_name + "/")}
    assert sorted(trained) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(np.asarray(trained[name]), value, rtol=1e-4, atol=1e-5, err_msg=name)
