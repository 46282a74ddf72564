"""The base of adapters that wrap another one and hand every question on to it.

    class Doubling(WrappingAdapter):
        def epoch_batches(self, epoch, start_step=0, positioned=None):
            for x, y, w in self.inner.epoch_batches(epoch, start_step, positioned):
                yield 2 * x, y, w
"""
from __future__ import annotations

__all__ = ["WrappingAdapter"]


class WrappingAdapter:
    """An adapter over ``self.inner``: position, epoch end, state and seed are the inner adapter's.

    Example::

        wrapped = Doubling(); wrapped.inner = ArrayAdapter(x, y, batch_size=8)
    """

    def __getattr__(self, name):  # batch_size, seed, ... of the wrapped adapter
        inner = self.__dict__.get("inner")
        if inner is None:   # not set yet (copy, unpickling): no recursion into __getattr__
            raise AttributeError(name)
        return getattr(inner, name)

    @property
    def seed(self):
        """The wrapped adapter's seed; setting it (a broadcast, a restored backup) sets the inner one."""
        return self.inner.seed

    @seed.setter
    def seed(self, value):
        self.inner.seed = value

    def peek(self):
        return self.inner.peek()

    def on_epoch_end(self):
        self.inner.on_epoch_end()

    def state_dict(self):
        return self.inner.state_dict()

    def load_state_dict(self, state):
        self.inner.load_state_dict(state)
