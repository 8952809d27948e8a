"""Scoring a generator: FID/KID/precision-recall/density-coverage, the Inception
network, the mode metrics, the bigan evaluator, and the evaluation driver."""
