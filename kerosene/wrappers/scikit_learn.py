"""Keras 2's scikit-learn wrappers: a function that builds a compiled model becomes an estimator.

    from sklearn.model_selection import cross_val_score
    from kerosene.wrappers.scikit_learn import KerasClassifier

    def build(units=16):
        model = Sequential([Dense(units, input_dim=8, activation='relu'),
                            Dense(1, activation='sigmoid')])
        model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])
        return model

    clf = KerasClassifier(build_fn=build, units=32, epochs=5, batch_size=16, verbose=0)
    cross_val_score(clf, x, y, cv=3)

The keyword arguments after ``build_fn`` (Keras calls them ``sk_params``) go to
``build_fn`` when it takes them by name, and to ``fit``, ``predict``, ``predict_proba``
and ``evaluate`` when those do; a name none of them takes is a ``ValueError`` at once.
scikit-learn is not imported here: the estimators speak its protocol
(``get_params``/``set_params``, ``fit``/``predict``/``score``, tags) on their own.
"""
import copy
import inspect
import warnings

import numpy as np

from .._log_keys import resolve_log_key
from ..models import Sequential
from ..utils.generic_utils import to_list
from ..utils.np_utils import to_categorical

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor", "NotFittedError"]

# The model methods whose arguments sk_params may set; x and y are the data each call is given.
_MODEL_METHODS = (Sequential.fit, Sequential.predict, Sequential.predict_classes, Sequential.evaluate)
_DATA_ARGS = ("self", "x", "y")


class NotFittedError(ValueError, AttributeError):
    """``predict``/``score`` before ``fit`` (the same bases as scikit-learn's NotFittedError).

        try:
            KerasRegressor(build_fn=build).predict(x)
        except NotFittedError as e:
            print(e)
    """


def _named_args(fn):
    """The arguments ``fn`` takes by name (not those only a ``**kwargs`` would swallow)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):    # a builtin without a signature takes nothing by name
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _loss_name(loss):
    """``'categorical_crossentropy'`` for that loss given by name, as a function or as a loss object."""
    if isinstance(loss, str):
        return loss
    return getattr(loss, "__name__", None) or getattr(loss, "name", None)


class BaseWrapper:
    """The shared part of :class:`KerasClassifier` and :class:`KerasRegressor` (use those).

    ``build_fn`` builds, compiles and returns a model; it is one of: a function, an
    object with a ``__call__`` method, or ``None``, in which case a subclass's own
    ``__call__`` is the builder. Each ``fit`` builds a fresh model.
    ``sk_params`` hold both the builder's arguments and those of ``fit``/``predict``/
    ``evaluate`` (``epochs``, ``batch_size``, ``verbose``, ...); an argument given to
    ``fit(x, y, **kwargs)`` or ``predict(x, **kwargs)`` wins over the one in ``sk_params``.

        class Builder(KerasRegressor):
            def __call__(self, units=8):
                model = Sequential([Dense(units, input_dim=4), Dense(1)])
                model.compile('sgd', 'mse')
                return model

        reg = Builder(units=16, epochs=3, verbose=0)
        reg.fit(x, y)
    """

    _estimator_type = None    # scikit-learn before 1.6 reads this; later versions ask __sklearn_tags__

    def __init__(self, build_fn=None, **sk_params):
        self._check_build_fn(build_fn)
        self.build_fn = build_fn
        self.check_params(sk_params)
        self.sk_params = sk_params

    # --- parameters --------------------------------------------------------------------
    def _check_build_fn(self, build_fn):
        if build_fn is None:
            if not callable(self):
                raise TypeError(f"{type(self).__name__}: `build_fn` is None, which needs a subclass that "
                                "defines __call__ to build the model; give `build_fn` a function (or an "
                                "object with __call__) that returns a compiled model, or define __call__")
        elif not callable(build_fn):
            raise TypeError(f"{type(self).__name__}: `build_fn` must be a function, an object with __call__, "
                            f"or None (with a subclass defining __call__); got {build_fn!r} "
                            f"({type(build_fn).__name__})")

    def _builder(self, build_fn=None):
        build_fn = self.build_fn if build_fn is None else build_fn
        return self.__call__ if build_fn is None else build_fn

    def check_params(self, params, build_fn=None):
        """Raise ``ValueError`` for a name in ``params`` that neither the builder nor the model methods take.

        ``build_fn``: the builder to check against (default: this estimator's).
        """
        builder_args = _named_args(self._builder(build_fn))
        method_args = {name for fn in _MODEL_METHODS for name in _named_args(fn) if name not in _DATA_ARGS}
        for name in params:
            if name in builder_args or name in method_args or name == "nb_epoch":
                continue
            raise ValueError(
                f"{type(self).__name__}: {name} is not a legal parameter ({name}={params[name]!r}): sk_params "
                f"take the arguments of build_fn ({', '.join(builder_args) or 'none by name'}) and those of "
                f"the model's fit, predict and evaluate ({', '.join(sorted(method_args))})")

    def get_params(self, **params):
        """``sk_params`` and ``build_fn`` as one dict (``deep`` and other arguments are ignored).

        The values are the estimator's own (not copies), so scikit-learn's ``clone``
        finds the constructor keeps each one as given.
        """
        res = dict(self.sk_params)
        res["build_fn"] = self.build_fn
        return res

    def set_params(self, **params):
        """Update ``sk_params`` (and ``build_fn`` when given); every name is checked before any is set.

        A new ``build_fn`` is checked against all the ``sk_params``, the ones kept too.
        """
        params = dict(params)
        build_fn = params.pop("build_fn", self.build_fn)
        self._check_build_fn(build_fn)
        self.check_params(dict(self.sk_params, **params) if build_fn is not self.build_fn else params,
                          build_fn=build_fn)
        self.build_fn = build_fn
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None):
        """The ``sk_params`` that ``fn`` takes by name, updated with ``override`` (passed as is)."""
        names = _named_args(fn)
        res = {name: value for name, value in self.sk_params.items() if name in names}
        res.update(override or {})
        return res

    # --- fitting -----------------------------------------------------------------------
    def _build_model(self):
        builder = self._builder()
        model = builder(**self.filter_sk_params(builder))
        if not (callable(getattr(model, "fit", None)) and callable(getattr(model, "predict", None))):
            raise TypeError(f"{type(self).__name__}: `build_fn` must return a compiled model; "
                            f"{getattr(builder, '__name__', builder)!r} returned {model!r}")
        return model

    def _targets_for_loss(self, y, num_classes=None):
        """Integer labels one-hot encoded when the model's loss is categorical_crossentropy (as Keras 2).

        Other targets (a list of arrays for several outputs, say) go to the model as given.
        """
        if _loss_name(self.model.loss) != "categorical_crossentropy":
            return y
        y = np.asarray(y)
        return y if y.ndim == 2 and y.shape[1] > 1 else to_categorical(y, num_classes)

    def fit(self, x, y, **kwargs):
        """Build a new model with ``build_fn`` and fit it to ``(x, y)``; returns its ``History``.

        ``kwargs``: arguments of the model's ``fit``; they win over ``sk_params``.
        """
        self.model = self._build_model()
        y = self._targets_for_loss(y, getattr(self, "n_classes_", None))
        # A copy, as Keras 2 does: each fit (each cross-validation fold) gets callbacks of its own.
        fit_args = copy.deepcopy(self.filter_sk_params(Sequential.fit))
        if "nb_epoch" in self.sk_params and "epochs" not in fit_args and "epochs" not in kwargs:
            warnings.warn("`nb_epoch` is Keras 1's name for `epochs`; training for "
                          f"epochs={self.sk_params['nb_epoch']!r}", UserWarning, stacklevel=2)
            fit_args["epochs"] = self.sk_params["nb_epoch"]
        fit_args.update(kwargs)
        return self.model.fit(x, y, **fit_args)

    def _fitted_model(self):
        model = getattr(self, "model", None)
        if model is None:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit(x, y) first")
        return model

    def __sklearn_tags__(self):
        # Deferred: only scikit-learn (1.6 and later) calls this, and kerosene must import without it.
        from sklearn.utils import Tags, TargetTags
        return Tags(estimator_type=self._estimator_type, target_tags=TargetTags(required=True),
                    non_deterministic=True)


class KerasClassifier(BaseWrapper):
    """A scikit-learn classifier around a Keras model: labels of any kind in, the same labels out.

    ``y`` may be labels (numbers or strings, shape ``(samples,)`` or ``(samples, 1)``),
    which become ``classes_`` (sorted) and are one-hot encoded when the model's loss is
    ``categorical_crossentropy``; or one-hot rows, whose columns are the classes
    ``0..n-1``. ``score`` is the model's accuracy, so compile with ``metrics=['accuracy']``.

        def build(units=16):
            model = Sequential([Dense(units, input_dim=4, activation='relu'),
                                Dense(3, activation='softmax')])
            model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
            return model

        clf = KerasClassifier(build_fn=build, epochs=10, verbose=0)
        clf.fit(x, np.array(['cat', 'dog', 'eel'])[labels])
        clf.predict(x[:3])          # array(['dog', 'cat', 'cat'], dtype='<U3')
    """

    _estimator_type = "classifier"

    def fit(self, x, y, sample_weight=None, **kwargs):
        """Find ``classes_`` in ``y``, build a new model and fit it; returns its ``History``."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            classes = np.arange(y.shape[1])
        elif y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
            classes = np.unique(y)
            y = np.searchsorted(classes, y)
        else:
            raise ValueError(f"{type(self).__name__}.fit: `y` must be labels of shape (samples,) or (samples, 1), "
                             f"or one-hot rows (samples, classes); got shape {y.shape}")
        self.classes_ = classes
        self.n_classes_ = len(classes)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return super().fit(x, y, **kwargs)

    def predict(self, x, **kwargs):
        """The predicted label of each sample, shape ``(samples,)``, taken from ``classes_``.

        The class is the argmax of the model's outputs, or output > 0.5 for one sigmoid unit.
        """
        model = self._fitted_model()
        proba = model.predict(x, **self.filter_sk_params(Sequential.predict_classes, kwargs))
        if proba.shape[-1] > 1:
            index = proba.argmax(axis=-1)
        else:
            index = (proba > 0.5).astype("int32").reshape(proba.shape[:-1])
        return self.classes_[index]

    def predict_proba(self, x, **kwargs):
        """Class probabilities, shape ``(samples, classes)``: one sigmoid output gives two columns ``[1-p, p]``."""
        model = self._fitted_model()
        probs = model.predict(x, **self.filter_sk_params(Sequential.predict_proba, kwargs))
        if probs.ndim == 2 and probs.shape[1] == 1:
            probs = np.hstack([1 - probs, probs])
        return probs

    def score(self, x, y, **kwargs):
        """The model's accuracy on ``(x, y)`` (``y`` as given to ``fit``), from ``evaluate``.

        Raises ``ValueError`` when the model was compiled without ``metrics=['accuracy']``
        or when ``y`` holds a label that is not in ``classes_``.
        """
        model = self._fitted_model()
        names = to_list(model.metrics_names)
        key = resolve_log_key("acc", names)
        if key is None:
            raise ValueError(f"{type(self).__name__}.score needs the model's accuracy, but it computes only "
                             f"{names}: compile the model that build_fn returns with metrics=['accuracy']")
        y = np.asarray(y)
        if not (y.ndim == 2 and y.shape[1] > 1):
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(f"{type(self).__name__}.score: `y` holds labels {unseen.tolist()} that fit never "
                                 f"saw; the classes are {self.classes_.tolist()}")
            y = np.searchsorted(self.classes_, y)
        y = self._targets_for_loss(y, self.n_classes_)
        outputs = to_list(model.evaluate(x, y, **self.filter_sk_params(Sequential.evaluate, kwargs)))
        return dict(zip(names, outputs))[key]

    def __sklearn_tags__(self):
        # Deferred: only scikit-learn (1.6 and later) calls this, and kerosene must import without it.
        from sklearn.utils import ClassifierTags
        tags = super().__sklearn_tags__()
        tags.classifier_tags = ClassifierTags()
        return tags


class KerasRegressor(BaseWrapper):
    """A scikit-learn regressor around a Keras model; ``score`` is the negative loss (greater is better).

        def build():
            model = Sequential([Dense(8, input_dim=4, activation='relu'), Dense(1)])
            model.compile('adam', 'mse')
            return model

        reg = KerasRegressor(build_fn=build, epochs=20, batch_size=16, verbose=0)
        reg.fit(x, y)
        reg.predict(x).shape        # (samples,)
    """

    _estimator_type = "regressor"

    def predict(self, x, **kwargs):
        """The model's predictions with their axes of length 1 removed, the samples axis kept."""
        model = self._fitted_model()
        preds = np.asarray(model.predict(x, **self.filter_sk_params(Sequential.predict, kwargs)))
        return np.squeeze(preds, axis=tuple(i for i in range(1, preds.ndim) if preds.shape[i] == 1))

    def score(self, x, y, **kwargs):
        """Minus the model's loss on ``(x, y)``, from ``evaluate``."""
        model = self._fitted_model()
        loss = model.evaluate(x, y, **self.filter_sk_params(Sequential.evaluate, kwargs))
        return -(loss[0] if isinstance(loss, list) else loss)

    def __sklearn_tags__(self):
        # Deferred: only scikit-learn (1.6 and later) calls this, and kerosene must import without it.
        from sklearn.utils import RegressorTags
        tags = super().__sklearn_tags__()
        tags.regressor_tags = RegressorTags()
        return tags
