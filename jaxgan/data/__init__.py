"""Datasets by name (datasets/) and the input pipeline."""
