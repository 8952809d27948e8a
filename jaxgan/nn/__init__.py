"""Flax building blocks: layers, normalisation, mini-batch features, conditioning, and
the gan family's G/D pairs (models/)."""
