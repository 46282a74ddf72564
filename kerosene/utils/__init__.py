"""Utilities Keras users reach for: summaries, plotting, data helpers."""
