"""kerosene's version, on the bottom floor so that saved files can record it.

    >>> from kerosene._version import __version__
"""
__version__ = "0.1.0"
