"""Callback warnings point at the user's line (the fit call or the constructor), not into kerosene."""
import warnings

import numpy as np

from kerosene.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from kerosene.layers import Dense
from kerosene.models import Sequential

X = np.random.RandomState(0).rand(8, 4).astype("float32")
Y = np.random.RandomState(1).rand(8, 1).astype("float32")


def fit_with(callback):
    model = Sequential([Dense(1, input_shape=(4,))])
    model.compile("sgd", "mse")
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[callback])


def test_warnings_from_hooks_and_constructors_name_this_file(tmp_path):
    cases = [
        ("never logs", lambda: fit_with(ModelCheckpoint(str(tmp_path / "w.h5"), monitor="val_loss", save_best_only=True))),
        ("not available", lambda: fit_with(EarlyStopping(monitor="val_loss"))),
        ("epsilon", lambda: ReduceLROnPlateau(epsilon=1e-3)),
        ("period", lambda: ModelCheckpoint(str(tmp_path / "p.h5"), period=2)),
    ]
    for text, action in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            action()
        ours = [w for w in caught if text in str(w.message)]
        assert ours, (text, [str(w.message) for w in caught])
        assert {w.filename for w in ours} == {__file__}, (text, [(w.filename, w.lineno) for w in ours])
