"""Launching many runs: `python -m jaxgan.launch.sweep` trains a grid of configs and
tabulates them (see sweep.py and the README's "Ablations")."""
