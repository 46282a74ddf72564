"""Utilities Keras users reach for: summaries, plotting, data helpers."""
from .plotting import plot_history
from . import data_utils, np_utils  # noqa: E402
from .data_utils import Sequence, get_file  # noqa: E402
from .np_utils import normalize, to_categorical  # noqa: E402
from .generic_utils import CustomObjectScope, Progbar, custom_object_scope, get_custom_objects  # noqa: E402
