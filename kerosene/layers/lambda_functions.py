"""How a Lambda layer's config describes its Python functions, and finding them again.

Keras 2's forms: a lambda or a nested function is ``[base64 of marshal.dumps(code), defaults,
closure values]`` with type ``'lambda'``; any other callable is its name with type
``'function'`` (kerosene also names a module-level function, which its module can give
back, and the config names that module). Every function described here is remembered
(weakly) for this process, so a config made in this process rebuilds the very function it
describes, whatever the form, without running code from the config, while that function
exists. Anything else comes from ``custom_objects`` by name, or, with
``safe_mode=False`` only, from the byte code or the named module.

    >>> double = lambda t: t * 2
    >>> value, kind = describe(double)
    >>> kind, resolve("lam", "function", value, kind) is double
    ('lambda', True)
    >>> describe(len)
    ('len', 'function')
"""
from __future__ import annotations

import base64
import binascii
import builtins
import importlib
import marshal
import sys
import types
import weakref

import numpy as np

from .. import backend as K

__all__ = ["func_dump", "func_load", "loaded_globals", "describe", "live_function", "resolve", "described_config",
           "resolved_config"]


def func_dump(function):
    """``(code, defaults, closure)`` of a Python function, Keras 2's encoding."""
    code = base64.encodebytes(marshal.dumps(function.__code__)).decode("ascii")
    closure = tuple(cell.cell_contents for cell in function.__closure__) if function.__closure__ else None
    return code, function.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None):
    """The function :func:`func_dump` encoded (this runs code from the file when called)."""
    if isinstance(code, (list, tuple)):
        code, defaults, closure = code
    try:
        code_object = marshal.loads(base64.decodebytes(code.encode("ascii")))
    except (UnicodeEncodeError, binascii.Error, ValueError, EOFError):
        code_object = marshal.loads(code.encode("raw_unicode_escape"))   # Keras before 2.1.2: the raw bytes
    if not isinstance(code_object, types.CodeType):
        raise ValueError(f"the marshalled data is a {type(code_object).__name__}, not Python byte code")
    if closure is not None:
        closure = tuple(types.CellType(value) for value in closure)
    return types.FunctionType(code_object, globs if globs is not None else loaded_globals(None),
                              code_object.co_name, tuple(defaults) if isinstance(defaults, list) else defaults,
                              closure)


def loaded_globals(custom_objects):
    """What a function loaded from byte code sees as globals: Keras 2's ``K`` and ``np``, then
    ``custom_objects``."""
    return {"__builtins__": builtins, "K": K, "np": np, **dict(custom_objects or {})}


# Functions described in this process: byte code -> [weakref], name -> [weakref].
_BY_CODE: dict = {}
_BY_NAME: dict = {}


def _remember(table, key, function):
    refs = table.setdefault(key, [])
    if any(ref() is function for ref in refs):
        return

    def forget(ref, table=table, key=key):
        alive = [r for r in table.get(key, ()) if r is not ref and r() is not None]
        if alive:
            table[key] = alive
        else:
            table.pop(key, None)
    refs.append(weakref.ref(function, forget))


def _module_level(function):
    module = sys.modules.get(getattr(function, "__module__", None) or "")
    name = getattr(function, "__name__", None)
    return (isinstance(name, str) and getattr(function, "__qualname__", name) == name
            and getattr(module, name, None) is function)


def describe(function):
    """``(value, kind)`` for ``function`` in a Lambda config (see the module docstring); the
    function is remembered for :func:`live_function`."""
    if isinstance(function, types.FunctionType) and not _module_level(function):
        value = func_dump(function)
        _remember(_BY_CODE, value[0], function)
        return value, "lambda"
    name = getattr(function, "__name__", None) or repr(function)
    try:
        _remember(_BY_NAME, name, function)
    except TypeError:   # an object that takes no weak reference is not remembered
        pass
    return name, "function"


def _same(a, b):
    # A config may have been through JSON: tuples came back as lists.
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    try:
        return bool(a == b)
    except (TypeError, ValueError, RuntimeError):   # arrays, tensors: identity only
        return False


def live_function(value, kind, module=None):
    """The functions of this process that :func:`describe` gave ``value`` (a list: one or none;
    a name needs its ``module``, as a name alone may mean another process's function)."""
    if kind == "lambda":
        if not isinstance(value, (list, tuple)) or len(value) != 3 or not isinstance(value[0], str):
            return []
        code, defaults, closure = value
        found = [r() for r in _BY_CODE.get(code, ())]
        found = [f for f in found if f is not None and _same(func_dump(f)[1:], (defaults, closure))]
        return found[:1]     # the same code, defaults and closure values: any of them is the function
    if not isinstance(value, str) or module is None:
        return []
    found = [r() for r in _BY_NAME.get(value, ())]
    return [f for f in found if f is not None and getattr(f, "__module__", None) == module][:1]


def resolve(layer, key, value, kind, module=None, custom_objects=None, safe_mode=True):
    """The callable a Lambda config's ``key`` (``'function'``, ``'output_shape'``) describes, or
    a ValueError naming ``layer`` and saying how to supply it."""
    objects = dict(custom_objects or {})
    if callable(value):
        return value
    if kind not in (None, "function", "lambda"):
        raise ValueError(f"Lambda layer {layer!r}: unknown {key}_type {kind!r}; accepted: 'lambda' (byte code), "
                         "'function' (a name).")
    if kind == "lambda" and not (isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str)):
        raise ValueError(f"Lambda layer {layer!r}: its {key} {value!r:.80} is not Keras 2's byte code "
                         "[code, defaults, closure].")
    if kind in (None, "function") and isinstance(value, str) and value in objects:
        return objects[value]
    live = live_function(value, kind or "function", module)
    if live:
        return live[0]
    if kind == "lambda":
        if safe_mode is False:
            try:
                return func_load(value, globs=loaded_globals(objects))
            except (ValueError, TypeError, EOFError) as err:
                raise ValueError(f"Lambda layer {layer!r}: its {key}'s byte code cannot be loaded ({err}); byte "
                                 "code only loads on the Python version that wrote it: rebuild the layer in "
                                 "code") from None
        raise ValueError(f"Lambda layer {layer!r}: its {key} is Python byte code that was not made by this "
                         "process, and this load runs no code from a config: rebuild the layer in code, or pass "
                         "safe_mode=False to run the byte code (only for a config you trust; load_model('m.h5') "
                         "runs a .h5 file's as Keras 2 does).")
    if not isinstance(value, str):
        raise ValueError(f"Lambda layer {layer!r}: its {key} {value!r:.80} is not a function name.")
    if safe_mode is False and module and module not in ("__main__", "builtins") and value.isidentifier():
        return getattr(importlib.import_module(module), value)
    raise ValueError(
        f"Lambda layer {layer!r} wraps the Python function {value!r} (module {module!r}), which is saved "
        f"by reference only and not loaded from files: pass custom_objects={{{value!r}: function}}"
        + ("" if value == "<lambda>" else ", or safe_mode=False to import it from its module"))


def described_config(function, output_shape):
    """The ``function``/``output_shape`` entries of a Lambda's config (with their types and modules)."""
    value, kind = describe(function)
    config = {"function": value, "function_type": kind, "module": getattr(function, "__module__", None)}
    if callable(output_shape):
        shape, shape_kind = describe(output_shape)
        config.update({"output_shape": shape, "output_shape_type": shape_kind,
                       "output_shape_module": getattr(output_shape, "__module__", None)})
    else:
        config.update({"output_shape": output_shape, "output_shape_type": "raw"})
    return config


def resolved_config(config, custom_objects=None, safe_mode=True):
    """A Lambda config with its function (and a described ``output_shape``) as callables and the
    description keys gone: ready for ``Lambda(**config)``. A function this process described comes
    back as itself; otherwise a name comes from ``custom_objects``, and byte code or a named module
    is used only with ``safe_mode=False``; anything else is a ValueError saying what to pass."""
    config = dict(config)
    name = config.get("name", "?")
    module = config.pop("module", None)
    config["function"] = resolve(name, "function", config.get("function"), config.pop("function_type", None),
                                 module, custom_objects, safe_mode)
    shape_kind = config.pop("output_shape_type", "raw")
    shape_module = config.pop("output_shape_module", None)
    if shape_kind != "raw" and config.get("output_shape") is not None:
        config["output_shape"] = resolve(name, "output_shape", config["output_shape"], shape_kind, shape_module,
                                         custom_objects, safe_mode)
    return config
