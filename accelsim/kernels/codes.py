"""Integer mirrors of the spec enums, for kernels (numba sees ints, not Enums).

``tests/test_layering.py`` checks that each code matches its enum's position.
"""

# Dataflow (accelsim.spec.arch.Dataflow)
DATAFLOW_OS = 0
DATAFLOW_WS = 1
DATAFLOW_IS = 2

# Timing model (accelsim.spec.arch.TimingModel)
TIMING_NATIVE = 0
TIMING_SCALESIM = 1
