"""Defaults that the CLI shows in its help, in a module that imports nothing, so building the help stays cheap."""

#: Injection times (s) of the fault matrix: after the soft start and the first strides, at different points of the
#: gait cycle.
DEFAULT_TIMES_S = (3.0, 4.37, 5.71)
