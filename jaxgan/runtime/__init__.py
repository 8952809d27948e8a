"""Processes and devices, command-line plumbing, errors, files, logs."""
