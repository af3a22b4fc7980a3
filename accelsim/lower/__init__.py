"""Layers -> GEMM problems -> tile schedules (plain numpy arrays the kernels consume)."""

from accelsim.lower.gemm import ArrayRate, ConvGeometry, GemmProblem, lower_layer
from accelsim.lower.schedule import TileSchedule
from accelsim.lower.tiling import fixed_schedule, spatial_mapping

__all__ = ["ArrayRate", "ConvGeometry", "GemmProblem", "TileSchedule", "fixed_schedule", "lower_layer",
           "spatial_mapping"]
