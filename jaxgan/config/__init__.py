"""Config defaults, loading and validation."""
