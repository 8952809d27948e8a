"""Speed measurements (python -m jaxgan.bench and friends), apart from the research code."""
