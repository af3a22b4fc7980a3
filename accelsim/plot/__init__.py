"""Plots: DataFrames in, matplotlib Figures out (the only package that imports matplotlib)."""
