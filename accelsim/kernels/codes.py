"""Integer mirrors of the spec enums, for kernels (numba sees ints, not Enums).

``tests/test_layering.py`` checks that each code matches its enum's position.
"""

# Dataflow (accelsim.spec.arch.Dataflow)
DATAFLOW_OS = 0
DATAFLOW_WS = 1
DATAFLOW_IS = 2

# Traffic classes: columns of TileSchedule.sram_words / dram_words / dram_bytes
# (accelsim.lower.schedule.IFMAP ...): operand reads, output writes, partial-sum read-back.
TRAFFIC_IFMAP = 0
TRAFFIC_FILTER = 1
TRAFFIC_OFMAP_WRITE = 2
TRAFFIC_OFMAP_READ = 3

# Counters every systolic kernel fills (int64 array of length FOLD_STAT_COUNT). accelsim.result turns
# them into named columns (accelsim.engine.fold.COUNT_COLUMNS, the only place that does).
FOLD_STAT_CYCLES = 0               # total cycles (SCALE-Sim: "Total Cycles")
FOLD_STAT_COMPUTE_CYCLES = 1       # cycles without memory stalls
FOLD_STAT_STALL_CYCLES = 2
FOLD_STAT_CYCLES_INCL_PREFETCH = 3  # SCALE-Sim's "Total Cycles (incl. prefetch)"; native: = cycles
FOLD_STAT_FOLDS = 4
FOLD_STAT_MAPPED_PES = 5           # sum over folds of PEs used (rows_used * cols_used)
FOLD_STAT_BUSY_PE_CYCLES = 6       # sum over folds of PEs used x stream cycles
FOLD_STAT_UTIL_PE_CYCLES = 7       # denominator of compute utilization (PE-cycles)
FOLD_STAT_IFMAP_SRAM_READS = 8
FOLD_STAT_FILTER_SRAM_READS = 9
FOLD_STAT_OFMAP_SRAM_WRITES = 10
FOLD_STAT_OFMAP_SRAM_READS = 11
FOLD_STAT_IFMAP_DRAM_READS = 12
FOLD_STAT_FILTER_DRAM_READS = 13
FOLD_STAT_OFMAP_DRAM_WRITES = 14
FOLD_STAT_OFMAP_DRAM_READS = 15    # partial sums read back from DRAM (native, when they spill)
FOLD_STAT_DRAM_READ_BYTES = 16
FOLD_STAT_DRAM_WRITE_BYTES = 17
FOLD_STAT_COUNT = 18

# Sparsity mode (accelsim.spec.arch.SparsityMode)
SPARSITY_NONE = 0
SPARSITY_GATE = 1
SPARSITY_SKIP = 2

# Lockstep group of a sparse PE array (accelsim.spec.arch.SyncGroup, by position; AUTO is resolved
# before kernels and has no code)
SYNC_PE = 1
SYNC_ROW = 2
SYNC_COLUMN = 3
SYNC_FOLD = 4

# Counters of the register-level kernels (accelsim.kernels.pe), indices into their int64 output
PE_STAT_CYCLES = 0  # cycles stepped, until the last output left the array
PE_STAT_DRAIN_CYCLES = 1  # os: cycles spent shifting outputs out of the array
PE_STAT_PE_UPDATES = 2  # PE register updates (rows x cols per cycle)
PE_STAT_LEFT_WORDS = 3  # operand words that entered at the left edge
PE_STAT_TOP_WORDS = 4  # operand words that entered at the top edge
PE_STAT_BOTTOM_WORDS = 5  # results that left at the bottom edge into the output accumulators
PE_STAT_SATURATIONS = 6  # additions clipped by a saturating accumulator
PE_STAT_COUNT = 7

# Columns of the per-cycle trace of accelsim.kernels.cycle (words or bytes in that cycle)
CYC_TRACE_IFMAP_SRAM_READS = 0
CYC_TRACE_FILTER_SRAM_READS = 1
CYC_TRACE_OFMAP_SRAM_WRITES = 2
CYC_TRACE_OFMAP_SRAM_READS = 3
CYC_TRACE_DRAM_READ_BYTES = 4
CYC_TRACE_DRAM_WRITE_BYTES = 5
CYC_TRACE_COLUMNS = 6

# Counters of the sparse-array kernel (accelsim.kernels.sparse), indices into its int64 output
SPARSE_STAT_CYCLES = 0
SPARSE_STAT_STREAM_CYCLES = 1
SPARSE_STAT_DENSE_STREAM_CYCLES = 2
SPARSE_STAT_PERFORMED_MACS = 3
SPARSE_STAT_GATED_MACS = 4
SPARSE_STAT_SKIPPED_MACS = 5
SPARSE_STAT_IDLE_PE_CYCLES = 6
SPARSE_STAT_FOLDS = 7
SPARSE_STAT_COUNT = 8

# Counters of the vector-unit kernel (accelsim.kernels.vector), indices into its int64 output
VECTOR_STAT_CYCLES = 0
VECTOR_STAT_COMPUTE_CYCLES = 1
VECTOR_STAT_SRAM_READS = 2
VECTOR_STAT_SRAM_WRITES = 3
VECTOR_STAT_LOCAL_READS = 4
VECTOR_STAT_LOCAL_WRITES = 5
VECTOR_STAT_LANE_SLOTS = 6
VECTOR_STAT_COUNT = 7
