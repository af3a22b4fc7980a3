"""Analysis of finished results: where a network's time and energy go (:mod:`accelsim.analysis.breakdown`)."""
