"""KerasClassifier / KerasRegressor: Keras 2's scikit-learn wrappers over kerosene models."""
import importlib.util
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

from kerosene.layers import Dense
from kerosene.models import Sequential
from kerosene.wrappers.scikit_learn import KerasClassifier, KerasRegressor, NotFittedError


def blob_data(classes=3, n=120, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(classes, 4)) * 4
    labels = rng.integers(0, classes, size=n)
    x = (centers[labels] + rng.normal(size=(n, 4))).astype("float32")
    return x, labels


def build_softmax(units=8, classes=3, loss="categorical_crossentropy", metrics=("accuracy",)):
    model = Sequential([Dense(units, input_dim=4, activation="relu"), Dense(classes, activation="softmax")])
    model.compile("adam", loss, metrics=list(metrics))
    return model


def build_sigmoid(units=8):
    model = Sequential([Dense(units, input_dim=4, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def build_regressor(units=8, kernel_initializer="glorot_uniform"):
    model = Sequential([Dense(units, input_dim=4, activation="relu", kernel_initializer=kernel_initializer),
                        Dense(1, kernel_initializer=kernel_initializer)])
    model.compile("sgd", "mse")
    return model


# --- classifier ---------------------------------------------------------------------------
def test_binary_sigmoid_labels_map_through_classes_and_proba_has_two_columns(seeded):
    x, labels = blob_data(classes=2)
    y = np.array([3, 7])[labels]
    clf = KerasClassifier(build_fn=build_sigmoid, epochs=3, batch_size=16, verbose=0)
    clf.fit(x, y)
    assert clf.classes_.tolist() == [3, 7] and clf.n_classes_ == 2

    preds = clf.predict(x)
    assert preds.shape == (len(x),) and set(np.unique(preds)) <= {3, 7}
    proba = clf.predict_proba(x)
    p = clf.model.predict(x)
    assert proba.shape == (len(x), 2)
    np.testing.assert_allclose(proba[:, 1:], p, rtol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(preds, np.where(p[:, 0] > 0.5, 7, 3))
    # score is the model's accuracy on the labels as given to fit
    assert clf.score(x, y) == pytest.approx(np.mean(preds == y), abs=1e-6)


def test_softmax_multiclass_one_hot_encodes_integer_labels_for_categorical_crossentropy(seeded):
    x, labels = blob_data(classes=3)
    y = labels + 10                      # labels 10, 11, 12 become classes 0, 1, 2
    clf = KerasClassifier(build_fn=build_softmax, epochs=20, batch_size=16, verbose=0)
    history = clf.fit(x, y)
    assert len(history.epoch) == 20
    assert clf.classes_.tolist() == [10, 11, 12] and clf.n_classes_ == 3

    preds = clf.predict(x)
    proba = clf.predict_proba(x)
    np.testing.assert_array_equal(preds, clf.classes_[proba.argmax(axis=1)])
    score = clf.score(x, y)
    assert score == pytest.approx(np.mean(preds == y), abs=1e-6)
    assert score > 0.8                   # the blobs are well apart: it learned something


def test_string_labels_with_sparse_categorical_crossentropy(seeded):
    x, labels = blob_data(classes=3)
    names = np.array(["eel", "cat", "dog"])[labels]
    clf = KerasClassifier(build_fn=build_softmax, loss="sparse_categorical_crossentropy", epochs=2, verbose=0)
    clf.fit(x, names)
    assert clf.classes_.tolist() == ["cat", "dog", "eel"]
    preds = clf.predict(x)
    assert preds.shape == (len(x),) and set(preds) <= {"cat", "dog", "eel"}
    assert clf.score(x, names) == pytest.approx(np.mean(preds == names), abs=1e-6)


def test_one_hot_targets_make_column_classes(seeded):
    x, labels = blob_data(classes=3)
    one_hot = np.eye(3, dtype="float32")[labels]
    clf = KerasClassifier(build_fn=build_softmax, epochs=2, verbose=0)
    clf.fit(x, one_hot)
    assert clf.classes_.tolist() == [0, 1, 2]
    preds = clf.predict(x)
    assert clf.score(x, one_hot) == pytest.approx(np.mean(preds == labels), abs=1e-6)
    # labels (n, 1) are labels, not one-hot rows
    clf.fit(x, labels[:, None] + 1)
    assert clf.classes_.tolist() == [1, 2, 3] and clf.predict(x).shape == (len(x),)


def test_sample_weight_reaches_fit(seeded):
    x, labels = blob_data(classes=3)

    def build(units=4):
        model = Sequential([Dense(3, input_dim=4, activation="softmax", kernel_initializer="ones")])
        model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
        return model

    clf = KerasClassifier(build_fn=build, epochs=1, verbose=0)
    clf.fit(x, labels, sample_weight=np.zeros(len(x)))
    np.testing.assert_array_equal(clf.model.get_weights()[0], np.ones((4, 3)))   # zero weight: no step moved it
    clf.fit(x, labels)
    assert not np.array_equal(clf.model.get_weights()[0], np.ones((4, 3)))


# --- regressor ----------------------------------------------------------------------------
def test_regressor_predict_is_squeezed_and_score_is_minus_the_loss(seeded):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32")
    reg = KerasRegressor(build_fn=build_regressor, units=6, epochs=2, batch_size=16, verbose=0)
    reg.fit(x, y)
    assert reg.predict(x).shape == (64,)
    assert reg.predict(x[:1]).shape == (1,)          # one sample keeps its samples axis
    np.testing.assert_allclose(reg.predict(x), reg.model.predict(x)[:, 0])
    assert reg.score(x, y) == pytest.approx(-reg.model.evaluate(x, y, verbose=0))


# --- build_fn and sk_params ---------------------------------------------------------------
class Builder:
    def __call__(self, units=8):
        return build_softmax(units)


class SubclassedClassifier(KerasClassifier):
    def __call__(self, units=8):
        return build_softmax(units)


@pytest.mark.parametrize("make", [lambda **kw: KerasClassifier(build_fn=build_softmax, **kw),
                                  lambda **kw: KerasClassifier(build_fn=Builder(), **kw),
                                  lambda **kw: SubclassedClassifier(**kw)],
                         ids=["function", "object-with-call", "subclass-call"])
def test_sk_params_go_to_build_fn_and_to_fit(make, seeded):
    x, labels = blob_data()
    clf = make(units=5, epochs=2, batch_size=40, verbose=0)
    history = clf.fit(x, labels)
    assert clf.model.layers[0].units == 5
    assert len(history.epoch) == 2 and history.params["steps"] == 3
    history = clf.fit(x, labels, epochs=1)          # fit's own arguments win over sk_params
    assert len(history.epoch) == 1


def test_nb_epoch_trains_that_many_epochs_with_a_warning(seeded):
    x, labels = blob_data()
    clf = KerasClassifier(build_fn=build_softmax, nb_epoch=3, verbose=0)
    with pytest.warns(UserWarning, match="nb_epoch"):
        history = clf.fit(x, labels)
    assert len(history.epoch) == 3


def test_unknown_sk_param_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="hiden_units is not a legal parameter.*units"):
        KerasClassifier(build_fn=build_softmax, hiden_units=8)
    clf = KerasClassifier(build_fn=build_softmax, units=4)
    with pytest.raises(ValueError, match="epoch is not a legal parameter"):
        clf.set_params(units=16, epoch=3)
    assert clf.get_params()["units"] == 4              # nothing was set
    with pytest.raises(ValueError, match="units is not a legal parameter"):
        clf.set_params(build_fn=lambda hidden=3: build_softmax(hidden))
    assert clf.build_fn is build_softmax


def test_bad_build_fn_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="`build_fn` must be a function.*'build_softmax' \\(str\\)"):
        KerasClassifier(build_fn="build_softmax")
    with pytest.raises(TypeError, match="`build_fn` is None.*__call__"):
        KerasRegressor()
    clf = KerasClassifier(build_fn=lambda: None, epochs=1)
    with pytest.raises(TypeError, match="must return a compiled model.*returned None"):
        clf.fit(*blob_data())


def test_bad_y_shape_fails_before_the_model_is_built():
    built = []
    clf = KerasClassifier(build_fn=lambda: built.append(1) or build_softmax())
    with pytest.raises(ValueError, match=r"`y` must be labels .* got shape \(120, 3, 1\)"):
        clf.fit(blob_data()[0], np.zeros((120, 3, 1)))
    assert built == []


def test_score_without_accuracy_and_with_unseen_labels_are_value_errors(seeded):
    x, labels = blob_data()
    clf = KerasClassifier(build_fn=build_softmax, metrics=(), epochs=1, verbose=0)
    clf.fit(x, labels)
    with pytest.raises(ValueError, match=r"compile .* with metrics=\['accuracy'\]"):
        clf.score(x, labels)
    clf = KerasClassifier(build_fn=build_softmax, epochs=1, verbose=0).set_params(metrics=("acc",))
    clf.fit(x, labels)
    assert 0.0 <= clf.score(x, labels) <= 1.0     # Keras 2's 'acc' spelling is accuracy too
    with pytest.raises(ValueError, match=r"labels \[5\] that fit never saw"):
        clf.score(x, np.where(labels == 2, 5, labels))


def test_predict_before_fit_is_not_fitted_error():
    for est in (KerasClassifier(build_fn=build_softmax), KerasRegressor(build_fn=build_regressor)):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            est.predict(np.zeros((2, 4)))
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)


def test_an_unfitted_estimator_pickles():
    clf = KerasClassifier(build_fn=build_softmax, units=3, epochs=2)
    again = pickle.loads(pickle.dumps(clf))
    assert again.get_params() == clf.get_params()


def test_kerosene_wrappers_import_and_work_without_sklearn():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import numpy as np\n"
            "from kerosene.wrappers.scikit_learn import KerasRegressor\n"
            "from kerosene.models import Sequential\n"
            "from kerosene.layers import Dense\n"
            "def build():\n"
            "    m = Sequential([Dense(1, input_dim=2)]); m.compile('sgd', 'mse'); return m\n"
            "reg = KerasRegressor(build_fn=build, epochs=1, verbose=0)\n"
            "reg.fit(np.ones((8, 2)), np.ones(8)); print(reg.predict(np.ones((3, 2))).shape)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(3,)"


# --- scikit-learn itself --------------------------------------------------------------------
needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="scikit-learn is not installed")


@needs_sklearn
def test_clone_keeps_params_and_shares_no_state():
    from sklearn.base import clone, is_classifier, is_regressor
    from kerosene.callbacks import EarlyStopping

    clf = KerasClassifier(build_fn=build_softmax, units=6, epochs=2,
                          callbacks=[EarlyStopping(monitor="loss", patience=1)])
    twin = clone(clf)
    assert twin is not clf and twin.build_fn is build_softmax
    assert twin.get_params()["units"] == 6 and twin.get_params()["epochs"] == 2
    assert twin.sk_params is not clf.sk_params
    assert twin.get_params()["callbacks"][0] is not clf.get_params()["callbacks"][0]
    twin.set_params(units=9)
    assert clf.get_params()["units"] == 6
    assert is_classifier(clf) and is_regressor(KerasRegressor(build_fn=build_regressor))


@needs_sklearn
def test_cross_val_score_over_a_classifier(seeded):
    from sklearn.model_selection import cross_val_score

    x, labels = blob_data()
    clf = KerasClassifier(build_fn=build_softmax, epochs=100, batch_size=16, verbose=0)
    scores = cross_val_score(clf, x, labels, cv=3)
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))
    assert scores.mean() > 0.8       # the blobs are well apart: each fold's model learned


@needs_sklearn
def test_grid_search_over_epochs_batch_size_and_a_build_fn_argument(seeded):
    from sklearn.model_selection import GridSearchCV

    x, labels = blob_data()
    grid = {"units": [2, 8], "epochs": [1, 3], "batch_size": [30]}
    search = GridSearchCV(KerasClassifier(build_fn=build_softmax, verbose=0), grid, cv=2)
    search.fit(x, labels)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_ in search.cv_results_["params"]
    best = search.best_estimator_
    assert best.model.layers[0].units == search.best_params_["units"]
    assert best.predict(x).shape == (len(x),)


@needs_sklearn
def test_grid_search_over_a_regressor_uses_minus_the_loss(seeded):
    from sklearn.model_selection import GridSearchCV

    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = x.sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)    # no tag or parameter warnings from scikit-learn
        search = GridSearchCV(KerasRegressor(build_fn=build_regressor, verbose=0), {"epochs": [1, 2]}, cv=2)
        search.fit(x, y)
    assert np.all(search.cv_results_["mean_test_score"] <= 0)
