"""The package version (also in pyproject.toml): part of every sweep result key."""

__version__ = "0.1.0"
