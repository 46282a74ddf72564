"""kerosene.datasets.digits: scikit-learn's bundled digits, split the Keras way."""
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the digits ship inside scikit-learn (the `data` extra)")

from sklearn.datasets import load_digits

from kerosene.datasets import digits


def test_shapes_types_and_default_split():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
    assert y_train.shape == (1438,) and y_test.shape == (359,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert x_train.max() == digits.MAX_PIXEL and set(np.unique(y_train)) == set(range(10))


def test_split_is_a_seeded_permutation_of_the_bundled_data():
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.25, seed=7)
    (again, _), _ = digits.load_data(test_split=0.25, seed=7)
    (other, _), _ = digits.load_data(test_split=0.25, seed=8)
    assert np.array_equal(x_train, again) and not np.array_equal(x_train, other)
    bunch = load_digits()
    ours = np.concatenate([x_train, x_test]).reshape(len(bunch.images), -1)
    theirs = bunch.images.reshape(len(bunch.images), -1).astype(np.uint8)
    # Same images, each still with its own label.
    order_ours = np.lexsort(np.c_[ours, np.concatenate([y_train, y_test])].T)
    order_theirs = np.lexsort(np.c_[theirs, bunch.target].T)
    assert np.array_equal(ours[order_ours], theirs[order_theirs])
    assert np.array_equal(np.concatenate([y_train, y_test])[order_ours], bunch.target[order_theirs])


def test_zero_test_split_keeps_everything_for_training():
    (x_train, _), (x_test, _) = digits.load_data(test_split=0)
    assert len(x_train) == 1797 and len(x_test) == 0


@pytest.mark.parametrize("kwargs, pattern", [({"test_split": 1.0}, r"test_split.*1\.0"),
                                             ({"test_split": "0.2"}, "test_split.*'0.2'"),
                                             ({"seed": -1}, "seed.*-1"), ({"seed": 1.5}, r"seed.*1\.5")])
def test_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        digits.load_data(**kwargs)


def test_missing_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"kerosene\[data\]"):
        digits.load_data()
