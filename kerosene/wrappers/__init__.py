"""Keras 2's ``keras.wrappers``: models as scikit-learn estimators.

    from kerosene.wrappers.scikit_learn import KerasClassifier, KerasRegressor

    clf = KerasClassifier(build_fn=build, epochs=5, verbose=0)   # build() returns a compiled model
    clf.fit(x, labels)
"""
from . import scikit_learn

__all__ = ["scikit_learn"]
