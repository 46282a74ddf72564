"""Utilities Keras users reach for: summaries, plotting, data helpers, and Keras 2's
``keras.utils`` names (``to_categorical``, ``Sequence``, ``HDF5Matrix``, ``custom_object_scope``...).

    from kerosene.utils import to_categorical, HDF5Matrix, print_summary
"""
import importlib

from .plotting import plot_history
from . import data_utils, np_utils  # noqa: E402
from .data_utils import Sequence, get_file  # noqa: E402
from .np_utils import normalize, to_categorical  # noqa: E402
from .generic_utils import (CustomObjectScope, Progbar, custom_object_scope, deserialize_keras_object,  # noqa: E402
                            get_custom_objects, serialize_keras_object)

# These read layers and models, which import kerosene.utils.tree while they load: they come on first use.
_LAZY = {"vis_utils": None, "plot_model": "vis_utils", "model_to_dot": "vis_utils", "conv_utils": None, "layer_utils": None, "io_utils": None, "test_utils": None, "multi_gpu_utils": None,
         "HDF5Matrix": "io_utils", "print_summary": "layer_utils", "convert_all_kernels_in_model": "layer_utils",
         "multi_gpu_model": "multi_gpu_utils", "get_source_inputs": "kerosene.engine.topology"}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'kerosene.utils' has no attribute {name!r}")
    home = _LAZY[name]
    if home is None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        module = importlib.import_module(home if home.startswith("kerosene.") else f".{home}", __name__)
        value = getattr(module, name)
    globals()[name] = value
    return value
