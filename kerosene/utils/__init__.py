"""Utilities Keras users reach for: summaries, plotting, data helpers."""
from .plotting import plot_history
from . import data_utils, np_utils  # noqa: E402
from .data_utils import Sequence, get_file  # noqa: E402
from .np_utils import normalize, to_categorical  # noqa: E402
