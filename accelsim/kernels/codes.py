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

# Sparsity mode (accelsim.spec.arch.SparsityMode)
SPARSITY_NONE = 0
SPARSITY_GATE = 1
SPARSITY_SKIP = 2

# Lockstep group of a sparse PE array (accelsim.spec.arch.SyncGroup; AUTO is resolved before kernels)
SYNC_AUTO = 0
SYNC_PE = 1
SYNC_ROW = 2
SYNC_COLUMN = 3
SYNC_FOLD = 4
