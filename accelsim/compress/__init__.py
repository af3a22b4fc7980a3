"""Compression: schemes that annotate a Network with quantization and pruning, and weight masks."""
