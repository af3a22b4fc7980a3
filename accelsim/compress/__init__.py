"""Compression: schemes that annotate a Network with quantization and pruning, and weight masks."""

from accelsim.compress.masks import load_mask, make_mask, measure_sparsity, read_masks, save_mask
from accelsim.compress.prune import prune_channels
from accelsim.compress.scheme import Scheme, apply_scheme, load_scheme, scheme_from_dict

__all__ = ["Scheme", "apply_scheme", "load_mask", "load_scheme", "make_mask", "measure_sparsity", "prune_channels",
           "read_masks", "save_mask", "scheme_from_dict"]
