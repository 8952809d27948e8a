"""Means, medians and ratios of alternating timings: lines `NAME IMG_PER_S`, two names,
the second compared with the first (python summarize.py FILE)."""

import statistics
import sys

runs: dict[str, list[float]] = {}
for line in open(sys.argv[1]):
    name, value = line.split()
    runs.setdefault(name, []).append(float(value))
(first, base), (second, other) = runs.items()
for name, values in runs.items():
    mean, median = statistics.mean(values), statistics.median(values)
    print(f"{name:>6} img/s: mean {mean:.1f}, median {median:.1f}")
ratios = [o / b for o, b in zip(other, base, strict=False)]
print(
    f"{second}/{first}: ratio of means {statistics.mean(other) / statistics.mean(base):.3f}, "
    f"of medians {statistics.median(other) / statistics.median(base):.3f}; "
    f"pairs {min(ratios):.3f}-{max(ratios):.3f}"
)
