"""rlscale: many value-based RL configs in one compiled program, and their scaling laws."""

__version__ = "0.1.0"
