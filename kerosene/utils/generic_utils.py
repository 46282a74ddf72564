"""Keras 2's ``keras.utils.generic_utils``: the progress bar and small list helpers.

    bar = Progbar(target=10)
    for i in range(10):
        bar.update(i + 1, [('loss', 0.5)])

    to_list(x)            # [x] unless x is already a list
    unpack_singleton([a]) # a
    object_list_uid([a, b])  # '1403..., 1403...': one key for a list of objects
    slice_arrays([x, y], 0, 10)
    has_arg(fn, 'training')  # whether fn takes a `training` keyword
    deserialize_keras_object(serialize_keras_object(layer), custom_objects={'MyLayer': MyLayer})
"""
import inspect

from .progbar import Progbar
from ..symbolic import object_list_uid
from ..saving.keras2_lambda import func_dump, func_load
from ..saving.registry import CustomObjectScope, custom_object_scope, get_custom_objects, lookup_objects

__all__ = ["Progbar", "to_list", "unpack_singleton", "slice_arrays", "CustomObjectScope",
           "custom_object_scope", "get_custom_objects", "has_arg", "object_list_uid", "func_dump", "func_load",
           "serialize_keras_object", "deserialize_keras_object"]


def has_arg(fn, name, accept_all=False):
    """Whether ``fn`` can be called with the keyword argument ``name``; with ``accept_all``, a
    ``**kwargs`` catch-all counts too (positional-only parameters never do)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    found = parameters.get(name)
    if found is not None:
        return found.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return accept_all and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def to_list(x, allow_tuple=False):
    """``x`` as a list: a list is returned as is, a tuple too when ``allow_tuple``, else ``[x]``."""
    if isinstance(x, list):
        return x
    if allow_tuple and isinstance(x, tuple):
        return list(x)
    return [x]


def unpack_singleton(x):
    """The only element of a one-element list or tuple; anything else unchanged."""
    if isinstance(x, (list, tuple)) and len(x) == 1:
        return x[0]
    return x


def slice_arrays(arrays, start=None, stop=None):
    """Rows ``start:stop`` of an array or of each array in a list (``None`` entries stay ``None``).

    ``start`` may also be a list or array of row indices, then ``stop`` is ignored.
    """
    if arrays is None:
        return [None]
    if start is not None and hasattr(start, "__len__"):
        if hasattr(start, "shape"):
            start = start.tolist()
        pick = lambda a: None if a is None else a[start]  # noqa: E731
    else:
        pick = lambda a: None if a is None else a[start:stop]  # noqa: E731
    if isinstance(arrays, list):
        return [pick(a) for a in arrays]
    return pick(arrays)


def serialize_keras_object(instance):
    """Keras 2's form of an object: ``{'class_name', 'config'}`` when it has ``get_config``, its
    name for a function or class, ``None`` for ``None``."""
    if instance is None:
        return None
    if hasattr(instance, "get_config") and not isinstance(instance, type):
        return {"class_name": type(instance).__name__, "config": instance.get_config()}
    if hasattr(instance, "__name__"):
        return instance.__name__
    raise ValueError(f"serialize_keras_object: cannot serialize {instance!r}: it has no get_config() and no name")


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name="object"):
    """Keras 2's inverse of :func:`serialize_keras_object`: a ``{'class_name', 'config'}`` dict
    builds its class (``from_config``, else the constructor), a name gives its function or class.
    Names are looked up in ``custom_objects``, the custom objects in scope and registered ones,
    then ``module_objects``."""
    table = {**(module_objects or {}), **lookup_objects(custom_objects)}
    if isinstance(identifier, dict):
        name, config = identifier.get("class_name"), identifier.get("config") or {}
        cls = table.get(name)
        if cls is None:
            raise ValueError(f"Unknown {printable_module_name}: {name!r} (pass it in custom_objects)")
        if hasattr(cls, "from_config"):
            if has_arg(cls.from_config, "custom_objects"):
                return cls.from_config(config, custom_objects=dict(table))
            return cls.from_config(config)
        return cls(**config)
    if isinstance(identifier, str):
        found = table.get(identifier)
        if found is None:
            raise ValueError(f"Unknown {printable_module_name}: {identifier!r} (pass it in custom_objects)")
        return found
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier!r} (expected a name or a "
                     "{'class_name', 'config'} dict)")
