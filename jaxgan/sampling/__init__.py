"""From a checkpoint to images: restoring, latents, the sampler, image files."""
