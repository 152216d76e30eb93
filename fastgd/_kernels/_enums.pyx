# cython: language_level=3
"""Python view of the enums declared in ``_enums.pxd``."""
