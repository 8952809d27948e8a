"""What the nets minimise: GAN losses, gradient penalties, DiffAugment, PacGAN packing."""
