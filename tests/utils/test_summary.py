"""model.summary(): the Keras 2 table layout, parameter counts checked against Keras."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerosene.layers import LSTM, Activation, BatchNormalization, Conv2D, Dense, Embedding, Flatten, MaxPooling2D
from kerosene.models import Model, Sequential
from kerosene.utils.summary import format_summary

SPEC_TABLE = """\
Model: "spec"
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
d (Dense)                    (None, 10)                7850      
_________________________________________________________________
softmax (Activation)         (None, 10)                0         
=================================================================
Total params: 7,850
Trainable params: 7,850
Non-trainable params: 0
_________________________________________________________________"""


def spec_model():
    model = Sequential(name="spec")
    model.add(Dense(10, input_dim=784, kernel_initializer="uniform", name="d"))
    model.add(Activation("softmax", name="softmax"))
    return model


def test_spec_model_prints_the_keras2_table():
    printed = []
    spec_model().summary(print_fn=printed.append)
    assert printed == SPEC_TABLE.split("\n")     # one call per line, as Keras 2
    lines = SPEC_TABLE.splitlines()
    # Keras 2's geometry: 65 wide, the shape column starts at 29 and the count at 55.
    assert all(len(line) == 65 for line in lines[1:-1] if not line.startswith(("Total", "Trainable", "Non-")))
    assert lines[2].index("Output Shape") == 29 and lines[2].index("Param #") == 55


def test_summary_goes_to_stdout_by_default(capsys):
    spec_model().summary()
    assert capsys.readouterr().out.rstrip("\n") == SPEC_TABLE


def test_line_length_and_positions_reshape_the_table():
    text = format_summary(spec_model(), line_length=100, positions=[0.4, 0.8, 1.0])
    header = text.splitlines()[2]
    assert len(header) == 100 and header.index("Output Shape") == 40 and header.index("Param #") == 80
    assert text.splitlines()[1] == "_" * 100


def test_long_layer_names_are_cut_to_their_column():
    model = Sequential([Dense(2, input_dim=3, name="a_really_long_layer_name_that_overflows")])
    row = format_summary(model).splitlines()[4]
    assert row[:29] == "a_really_long_layer_name_tha "
    assert row[29:].startswith("(None, 2)")


def test_conv_batchnorm_and_plain_torch_modules():
    model = Sequential([Conv2D(8, 3, activation="relu", input_shape=(8, 8, 1)), BatchNormalization(),
                        MaxPooling2D(), Flatten(), torch.nn.Linear(72, 16), torch.nn.ReLU(), Dense(10)])
    text = format_summary(model)
    conv = next(line for line in text.splitlines() if "(Conv2D)" in line)
    assert conv[29:].startswith("(None, 6, 6, 8)") and conv.split()[-1] == "80"
    linear = next(line for line in text.splitlines() if "(Linear)" in line)
    assert "(None, 16)" in linear and linear.split()[-1] == str(72 * 16 + 16)
    # BatchNormalization: gamma/beta trainable, moving mean/variance not (Keras counts all four).
    bn = next(line for line in text.splitlines() if line.startswith("batch_normalization"))
    assert bn.split()[-1] == "32"
    total = 80 + 32 + 72 * 16 + 16 + 16 * 10 + 10
    assert f"Total params: {total:,}" in text
    assert "Non-trainable params: 16" in text
    assert f"Trainable params: {total - 16:,}" in text


def test_tracing_plain_modules_leaves_batchnorm_statistics_and_mode_alone():
    bn = torch.nn.BatchNorm1d(4)
    model = Sequential([Dense(4, input_dim=3), bn])
    model.train()
    before = bn.running_mean.clone(), int(bn.num_batches_tracked)
    format_summary(model)
    assert torch.equal(bn.running_mean, before[0]) and int(bn.num_batches_tracked) == before[1]
    assert model.training


def test_counts_match_keras():
    keras = pytest.importorskip("keras", reason="keras is the oracle for parameter counts")
    ours = Sequential([Embedding(50, 8, input_length=6), LSTM(5), BatchNormalization(), Dense(3)])
    theirs = keras.Sequential([keras.Input((6,)), keras.layers.Embedding(50, 8), keras.layers.LSTM(5),
                               keras.layers.BatchNormalization(), keras.layers.Dense(3)])
    text = format_summary(ours)
    trainable = sum(int(np.prod(w.shape)) for w in theirs.trainable_weights)
    assert f"Total params: {theirs.count_params():,}" in text
    assert f"Trainable params: {trainable:,}" in text
    assert f"Non-trainable params: {theirs.count_params() - trainable:,}" in text
    for ours_layer, their_layer in zip(ours.layers, theirs.layers):
        row = next(line for line in text.splitlines() if line.startswith(ours_layer.name + " "))
        assert row.split()[-1] == str(their_layer.count_params())


def test_subclassed_model_counts_its_own_parameters_and_shows_multiple():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(4)
            self.scale = torch.nn.Parameter(torch.ones(4))

        def call(self, x):
            return self.dense(x) * self.scale

    net = Net()
    net(torch.zeros(2, 3))
    text = format_summary(net)
    assert "multiple" in text and "Total params: 20" in text


def test_unbuilt_model_is_a_clear_error():
    with pytest.raises(ValueError, match="not been built.*input_shape"):
        Sequential([Dense(3)]).summary()


@pytest.mark.parametrize("line_length", [5, "wide", 12.5, True])
def test_bad_line_length(line_length):
    with pytest.raises(ValueError, match=r"line_length.*" + repr(line_length).replace(".", r"\.")):
        format_summary(spec_model(), line_length=line_length)


def test_bad_positions():
    with pytest.raises(ValueError, match="positions"):
        format_summary(spec_model(), positions=[0.9, 0.5, 1.0])


def test_sequential_built_from_data_shows_shapes():
    model = Sequential([Dense(8, activation="relu"), torch.nn.Linear(8, 3)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((10, 5), "float32"), np.zeros((10, 3), "float32"), verbose=0)
    rows = format_summary(model).splitlines()
    assert rows[4].startswith("dense") and rows[4][29:].startswith("(None, 8)") and rows[4].split()[-1] == "48"
    assert rows[6].startswith("linear") and rows[6][29:].startswith("(None, 3)") and rows[6].split()[-1] == "27"


def test_subclassed_model_children_out_of_call_order_are_not_guessed():
    class Backwards(Model):
        def __init__(self):
            super().__init__()
            self.head = Dense(2)          # defined first, called last
            self.body = Dense(4)

        def call(self, x):
            return self.head(self.body(x))

    net = Backwards()
    net(torch.zeros(1, 3))
    rows = [line for line in format_summary(net).splitlines() if "(Dense)" in line]
    assert [row[29:].split()[0] for row in rows] == ["multiple", "multiple"]   # no shape guessed
    assert [row.split()[-1] for row in rows] == ["10", "16"]                    # head 4*2+2, body 3*4+4


def test_functional_summary_shows_each_layers_own_output_shape():
    from kerosene.layers import Concatenate, Dense, Input
    from kerosene.models import Model
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    out = Dense(1, name="o")(Concatenate(name="c")([Dense(4, name="h")(a), b]))
    lines = []
    Model([a, b], out).summary(print_fn=lines.append)
    rows = {line.split()[0]: line for line in lines if line[:1] in "abhco" and "(" in line}
    assert "(None, 3)" in rows["a"] and "(None, 2)" in rows["b"] and "(None, 4)" in rows["h"]
    assert "(None, 6)" in rows["c"] and "(None, 1)" in rows["o"]
