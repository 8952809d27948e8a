"""Every config field jaxgan reads, with its default and what it means.

Config files in `configs/` start from `base_config()` and change what their paper
changes. Field names here are public: workdirs, the evaluation binary and the
ablation launcher rely on them.
"""

import ml_collections


def base_config() -> ml_collections.ConfigDict:
    """The defaults: a DCGAN on the embedded MNIST with the paper's optimiser."""
    config = ml_collections.ConfigDict()

    # --- Run -------------------------------------------------------------------
    # Seed of everything random: initialisation, latents, data order.
    config.seed = 0
    # Global batch size (summed over every device and process). It must divide
    # by the number of devices; it is never changed silently.
    config.batch_size = 128
    # A step is one generator update preceded by `d_steps` discriminator updates.
    config.num_train_steps = 5000
    # Console and TensorBoard logging period, in steps.
    config.log_every_steps = 100
    # Checkpoint period, in steps; a sample grid is written with every checkpoint.
    config.checkpoint_every_steps = 1000
    # How many checkpoints to keep (the latest ones).
    config.keep_checkpoints = 3

    # --- Data ------------------------------------------------------------------
    # Dataset name; see jaxgan/datasets/ (`mnist` is embedded and works offline).
    config.dataset = "mnist"
    # Side of the square images fed to the models, in pixels (28, 32 or 64).
    # Dataset images are resized to it.
    config.image_size = 28
    # 1 (grey) or 3 (RGB); grey datasets are repeated to 3 channels when 3.
    config.num_channels = 1
    # Real batches prepared ahead of the step, on a background thread.
    config.prefetch_batches = 2

    # --- Models ----------------------------------------------------------------
    # Model module under jaxgan/models/: `dcgan` (Radford et al. 2015) or `mlp`
    # (Goodfellow et al. 2014). It must define `Generator` and `Discriminator`.
    config.model = "dcgan"
    # Dimension of the generator's latent input z ~ N(0, I) (nz in DCGAN).
    config.latent_dim = 100
    # Generator / discriminator base width: channels of the widest-resolution
    # conv layer (ngf / ndf in DCGAN), or hidden units of the MLP.
    config.g_width = 64
    config.d_width = 64
    # Compute dtype of both nets: "float32", or "bfloat16" for mixed precision on
    # GPU/TPU (parameters, optimiser states, logits and losses stay float32).
    config.compute_dtype = "float32"

    # --- Objective ---------------------------------------------------------------
    # Loss name, a function in jaxgan/losses.py: `non_saturating` or `minimax`.
    config.loss = "non_saturating"
    # Discriminator updates per generator update, each on its own real batch.
    config.d_steps = 1

    # --- Optimisers (Adam; separate for G and D) --------------------------------
    config.g_learning_rate = 2e-4
    config.d_learning_rate = 2e-4
    config.g_beta1 = 0.5
    config.g_beta2 = 0.999
    config.d_beta1 = 0.5
    config.d_beta2 = 0.999

    # --- Samples -----------------------------------------------------------------
    # Images in the fixed-latent sample grid written at every checkpoint.
    config.num_samples = 64
    # Sample with G's running BatchNorm statistics (eval mode, as at test time).
    # False normalises with the statistics of the sample batch itself.
    config.sample_with_running_stats = True

    # --- Evaluation --------------------------------------------------------------
    # FID (and KID, precision/recall, density/coverage) of the generator every this
    # many steps, at checkpoint steps, through the code of `python -m jaxgan.evaluate`:
    # written to eval/metrics_<step>.json and TensorBoard `eval/`. 0 turns it off.
    # It should be a multiple of checkpoint_every_steps. On CPU it is slow (the
    # Inception network runs a few images/s); the reference features of the
    # dataset are computed on the first use and cached.
    config.fid_every_steps = 0
    # Generated images per evaluation during training (papers report 50k; fewer
    # bias FID upwards, so compare only runs scored with the same count).
    config.fid_num_samples = 5000
    # Real images of the reference (a fixed random subset of the split); 0 = all.
    config.fid_num_real = 0
    return config
