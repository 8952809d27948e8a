"""FID features: the Flax Inception port beside the TorchScript reference on CPU torch.

  python -m jaxgan.bench_inception --batch-size 32 --pairs 5 [--profile_ops 20]

The command beside `python -m jaxgan.bench` (the train step); the benchmark itself is
jaxgan/benchmarks/inception.py, which documents its flags.
"""

from jaxgan.benchmarks.inception import main

if __name__ == "__main__":
    main()
