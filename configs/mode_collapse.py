"""The mode-collapse laboratory: one benchmark, one remedy and optionally the networks,
`DATASET,REMEDY[,NETWORKS]`.

Run:
  python -m jaxgan.main --config=configs/mode_collapse.py:ring8,gan --workdir=runs/ring8-gan
  python -m jaxgan.main --config=configs/mode_collapse.py:ring8,pack2,pacgan \
      --workdir=runs/ring8-pack2-pacgan
  python -m jaxgan.evaluate --workdir=runs/ring8-gan      # modes, hq_pct, reverse_kl
  launch/mode_collapse.sh ring8 sweeps/ring8              # every remedy over 3 seeds

DATASET: `ring8`, `grid25`, `metz_ring` (2D mixtures, the MLP GAN; `metz_ring` is the
unrolled GAN notebook's 7-mode ring) or `stacked_mnist` (the DCGAN at 28x28x3).
REMEDY: `gan` (none), `unrolled5`, `unrolled10` (Metz et al. 2017),
`minibatch` (mini-batch discrimination, Salimans et al. 2016, B=100, C=5), `pack2`,
`pack3`, `pack4` (PacGAN, Lin et al. 2018: D sees 2-4 samples concatenated).
NETWORKS (2D mixtures only): `metz` (the default) or `pacgan`, below.

`metz` 2D networks and training: those of the unrolled GAN's public notebook
(github.com/poolio/unrolled_gan, `Unrolled GAN demo.ipynb`, read in the code index at
commit 0136e29; the notebook says its settings are not identical to the paper's):
  - G: z of 256 N(0, 1) numbers -> two Dense layers of 128 units with tanh -> a linear
    output of 2 (`generator`, slim.stack of fully_connected). D: the point -> two Dense
    layers of 128 with tanh -> a linear logit (`discriminator`). Every kernel from
    TensorFlow's orthogonal initializer with gain 1.4 (slim.arg_scope), biases 0 (slim's
    default). jaxgan: mlp_activation tanh, mlp_orthogonal_gain 1.4, mlp_d_maxout False.
  - Loss: the saddle objective, mean over the batch of BCE(D(x), 1) + BCE(D(G(z)), 0); D
    minimises it, G minimises -unrolled_loss, the same objective at the unrolled D (reals
    included). jaxgan: loss minimax, unrolled_objective saddle.
  - D: Keras' Adam(lr 1e-4, beta_1 0.5, epsilon 1e-8, beta_2 0.999 by default). G:
    tf.train.AdamOptimizer(1e-3, beta1 0.5, epsilon 1e-8). Batch 512 real and 512 fake,
    25,000 iterations, 5 unrolling steps (`unrolled5`; `unrolled10` doubles them).
  - Unrolling: the unrolled copy is built by graph_replace from Keras' update ops, so
    it starts from D's current parameters, moments and iteration count, reuses the same
    real batch and fakes in each step, and G's gradient flows through the moments.
    jaxgan's unrolled steps do the same with D's own optax state.
  - Updates: the training loop runs g_train_op and d_train_op in one sess.run, so G's
    unrolled loss starts from D before this iteration's update, and both update at once
    on one batch: jaxgan's simultaneous_updates (with unrolling, the first unrolled step
    is then D's own update). Without unrolling, the same loop is the plain `gan` remedy.
  - Data: the notebook's ring is dataset `metz_ring` (8 components at
    linspace(0, 2 pi, 8), so 7 distinct modes, one of double weight; std 0.01). `ring8`
    is VEEGAN's and PacGAN's 8 evenly spaced modes with the same networks.
Not the same:
  - Adam's epsilon: TensorFlow's and Keras' Adam add epsilon to sqrt(v) with the bias
    correction folded into the step size, optax to the bias-corrected sqrt(v_hat), so
    the notebook's epsilon is effectively epsilon / sqrt(1 - beta2^t) (at most 3.2e-7):
    both are negligible beside sqrt(v) here. jaxgan's unrolled steps also put 1e-16
    inside the square root (UNROLL_EPS_ROOT, jaxgan/training/state.py).
  - Data: the notebook samples a fresh batch every iteration; jaxgan draws 100,000
    points once from config.seed and shuffles them each epoch (195 steps).
  - Concurrency: TensorFlow gives no order between the two ops of one sess.run; reading
    them as simultaneous is our interpretation (the paper's equations say the same).
  - The metz settings also apply to grid25 and to the other remedies (minibatch, pack),
    which the notebook does not run.

`pacgan` 2D networks, read from PacGAN's public code (github.com/fjxmlzn/PacGAN; `2DRing`
and `2DGrid` below stand for the folders `synthetic_data_experiments/2DRing_GAN&PacGAN`
and `.../2DGrid_GAN&PacGAN`, `pacgan/` for `synthetic_data_experiments/PacGAN/pacgan`):
  - G (2DGrid/pacgan_task.py, sizes from 2DRing/config.py and 2DGrid/config.py, equal):
    z (2 numbers, N(0, 1): num_zdim 2, z_mode_std 1, one z mode at r 0) -> 4 hidden layers
    of 400 units, each Dense without bias, BatchNorm, ReLU -> a linear output of 2 with a
    bias. jaxgan: mlp_g_depth 4, g_width 400, mlp_g_batch_norm, latent_dim 2.
  - D (2DGrid/pacgan_task.py): 3 maxout layers of 200 units with 5 pieces (input 2 m
    numbers for packing m) -> a linear logit; created with_dropout=False (no dropout), no
    normalization. jaxgan: mlp_d_depth 3, d_width 200, mlp_maxout_pieces 5, d_norm none.
  - The networks were read from the grid's task file only; the ring's 2DRing/
    pacgan_task.py was not read (its config.py sets the same sizes).
  - Every weight N(0, 0.02), biases 0 (weights_init_std, biases_init in the configs;
    G's initialisation is pushed from the GAN brick): mlp_init_std 0.02. BatchNorm: Theano
    Blocks' defaults (scale 1, shift 0, epsilon 1e-4, read from Blocks' bricks/bn.py in the
    code index), population statistics moved with weight 0.05 per step
    (2DGrid/pacgan_task.py): jaxgan's mlp G BatchNorm uses epsilon 1e-4, momentum 0.95.
  - Loss (pacgan/bricks.py): D minimises softplus(-D(x)) + softplus(D(G(z))), G minimises
    softplus(-D(G(z))), means over D's inputs: jaxgan's non_saturating loss.
  - Adam at 1e-4, beta1 0.8, for G and D (the configs); beta2 and epsilon are Blocks'
    defaults, which we did not read (jaxgan: 0.999, optax's 1e-8).
  - Batch: 100 packed inputs per step for real and for fake, whatever the packing m:
    each row of the real data set holds m points (pacgan/datasets.py), and G runs on m
    latent batches of 100, concatenated along features (pacgan/bricks.py, 2DGrid/
    pacgan_task.py). jaxgan's batch_size counts samples and `pack` groups consecutive ones
    (jaxgan/objectives/packing.py), so batch_size = 100 m here: D sees 100 inputs of m points, G
    makes 100 m points a step.
  - Length: 400 epochs over num_sample = 100,000 rows of 100 per batch (the configs), so
    1000 steps an epoch for every m: num_train_steps 400,000. A checkpoint (with its
    scatter plot) every 1000 steps matches their per-epoch logging.
  - Evaluation (pacgan/extensions.py, GraphLogger and MetricLogger): 2500 samples from a
    fixed z, with BatchNorm's population statistics; jaxgan's evaluation default for the
    2D sets is 2500 too, with the running statistics (sample_with_running_stats).
Not the same:
  - Real data: PacGAN draws 100,000 points once and fills each of the m columns of a row
    by resampling them with replacement (numpy's global generator); an epoch shuffles the
    rows. jaxgan also trains on a fixed 100,000 points (ring8/grid25 draw them from
    config.seed, jaxgan/data/datasets/_mixture.py), shuffled each epoch without replacement,
    and a pack is m consecutive points of the shuffled order, so a point appears once per
    epoch of 1000 / m steps: m times per 1000 steps exactly, where PacGAN's is m times in
    expectation.
  - Updates: PacGAN's training rule (ali_algorithm of ali/algorithms.py, the ALI code
    PacGAN imports, read in the code index) takes D's and G's gradients at the same
    parameters on the same batch and applies both at once: jaxgan's
    simultaneous_updates, set here. (jaxgan's default updates D first, then G against
    the updated D.)
  - G's BatchNorm statistics: PacGAN calls G once per packed column, so each BatchNorm
    normalises over 100 samples and the population update averages the m calls; jaxgan
    runs G once on all 100 m samples. Blocks keeps a running standard deviation, Flax a
    running variance (evaluation normalises by sqrt(var + eps) instead).
  - Seeds: PacGAN draws its seeds at random per run (10 runs per packing); jaxgan runs
    are seeded by config.seed.
  - Metrics (pacgan/extensions.py, MetricLogger; jaxgan/metrics/modes.py): the same
    nearest-centre assignment, the 3-standard-deviation threshold (PacGAN's distance is
    sqrt(sum((x - mu)^2 / var)) per mode, the Euclidean distance over std for these
    isotropic modes of equal std; strict < 3 there, <= 3 here), and mode count. PacGAN
    writes the high-quality fraction (0-1; jaxgan a percentage), and for the histogram
    its entropy and its Jensen-Shannon divergence to uniform, not KL: jaxgan's
    reverse_kl is log(K) minus their entropy of coverage. Their log-likelihood (not in
    jaxgan) passes the variances to scipy as standard deviations.

Stacked MNIST uses jaxgan's DCGAN (widths 64, Adam 2e-4, beta1 0.5, batch 64) for 20k
steps; Metz et al. shrink D to make collapse likelier, and that is not reproduced either.
PacGAN's stacked-MNIST settings, recorded here only (no `pacgan` networks for it), read
from `stacked_MNIST_experiments/VEEGAN_experiment/` of the same repository: config.py
(one of its 3 stored versions) gives 50 epochs, Adam 2e-4 with beta1 0.5, batch 64, z of
100 numbers, 128,000 training images, 26,000 test samples, packing 1-4 over 10 runs;
model.py and pacgan_task.py give z ~ U(-1, 1), the DCGAN-TensorFlow networks (gf_dim =
df_dim = 64; G: linear to 2x2x512, then 4 transposed convolutions to 28x28x3 with
BatchNorm and ReLU, tanh out; D: 4 convolutions 64-512 with LeakyReLU, BatchNorm from the
second, a linear logit; kernel sizes and initialisation live in its ops.py, not read),
two G updates per D update, D fed 64 packs of m stacked images (3 m channels; G runs m
times on 64 latents), training images taken in a fixed order each epoch and scaled to
[0, 1] (while G's tanh spans [-1, 1]); the stacked images are three MNIST digits drawn
with replacement from MNIST's 70,000 train and test images. Their metric (model.py
log_metrics, classifier in evaluate.py: a Keras model file) counts distinct digit triples
over 26,000 samples of a fixed z and takes KL(p || uniform over 1000), as
jaxgan/metrics/modes.py does.

Published numbers to compare with (not re-checked against the papers here: they are
the figures we were given, and we could not reach the papers' tables to verify them):
  VEEGAN (Srivastava et al. 2017) Table 1, modes / % high-quality samples:
    2D ring (8 modes):  GAN 1.0 / 99.3,  unrolled GAN 7.6 / 35.6,  VEEGAN 8.0 / 52.9
    2D grid (25 modes): GAN 3.3 / 0.5,   unrolled GAN 23.6 / 16,   VEEGAN 24.6 / 40
  VEEGAN Table 2, stacked MNIST, modes (of 1000) / KL:
    DCGAN 99 / 3.4,  unrolled GAN 48.7 / 4.32,  VEEGAN 150 / 2.95
  PacGAN (Lin et al. 2018) Tables 1-3 (modes, high-quality %, reverse KL for ring8 and
  grid25 with packing 2-4; modes and KL for stacked MNIST): we found none of their
  numbers from here, so none is quoted.
jaxgan has measured short runs only (the README's "Mode-collapse laboratory"): with the
pacgan networks on one GPU, seeds 0 and 1 stopped at 15k-82k of the 400k steps, ring8:
gan 7.5 modes / 92.6% / reverse KL 0.28, pack3 8 / 95.6% / 0.03; grid25: gan 22 / 82.5%
/ 0.51, pack3 25 / 61.2% / 0.15, pack4 25 / 73.1% / 0.07. With the notebook's metz
settings on a CPU, the full 25k steps, seeds 0-4 (README, "The unrolled GAN,
reproduced"), modes / hq_pct / reverse KL, mean ± std: ring8 gan 5.4 ± 3.4 / 5.3 ± 6.4
/ 0.51 ± 0.33, unrolled5 7.8 ± 0.4 / 20.3 ± 20.4 / 0.24 ± 0.18, unrolled10 8.0 ± 0 /
27.6 ± 21.3 / 0.28 ± 0.21; metz_ring gan 3.4 ± 1.8 / 17.6 ± 19.3 / 1.23 ± 0.68,
unrolled5 7.0 ± 0 / 53.9 ± 16.5 / 0.10 ± 0.05, unrolled10 7.0 ± 0 / 61.9 ± 4.7 / 0.05 ±
0.02 (of 7 modes). PacGAN's Table 1 reports the plain GAN on the 8-mode ring at 6.3 ± 0.5 modes
(as quoted to us). With the former ReLU metz networks, seed 0, 5000 steps: ring8 gan 0
modes, unrolled5 6 / 1.8%, pack2 8 / 24.4%. Stacked
MNIST on a CPU, seeds 0 and 1, 3000 steps: gan 940 modes / KL 0.67, pack2 926 / 0.82. None of
the papers' tables has been reproduced at full length.
"""

from jaxgan import base_config

DATASETS = ("ring8", "grid25", "metz_ring", "stacked_mnist")
REMEDIES = ("gan", "unrolled5", "unrolled10", "minibatch", "pack2", "pack3", "pack4")
NETWORKS = ("metz", "pacgan")


def get_config(arg: str | None = None):
    dataset, remedy, networks, *extra = (arg or "ring8,gan").split(",") + ["", ""]
    remedy, networks = remedy or "gan", networks or "metz"
    if (
        any(extra)
        or dataset not in DATASETS
        or remedy not in REMEDIES
        or networks not in NETWORKS
        or (dataset == "stacked_mnist" and networks != "metz")
    ):
        raise ValueError(
            f"configs/mode_collapse.py takes DATASET,REMEDY[,NETWORKS] with DATASET in "
            f"{DATASETS}, REMEDY in {REMEDIES} and NETWORKS in {NETWORKS} (pacgan for the "
            f"2D mixtures only), got {arg!r}"
        )
    config = base_config()
    config.dataset = dataset
    if dataset == "stacked_mnist":
        config.num_channels = 3
        config.batch_size = 64
        config.num_train_steps = 20_000
    else:
        config.data_dim = 2
        config.model = "mlp"
        config.d_norm = "none"
        # Points in the scatter plot written with every checkpoint.
        config.num_samples = 2500
        if networks == "pacgan":
            set_pacgan_networks(config)
        else:
            set_metz_networks(config)
    if remedy.startswith("unrolled"):
        config.unroll_steps = int(remedy.removeprefix("unrolled"))
        if networks == "pacgan":
            # jaxgan 0.2's pacgan unrolled runs: G unrolls from the updated D.
            config.simultaneous_updates = False
    elif remedy == "minibatch":
        config.minibatch_features = "minibatch_discrimination"
    elif remedy.startswith("pack"):
        config.pack = int(remedy.removeprefix("pack"))
    # D judges as many inputs a step whatever the packing, as in PacGAN (see the
    # docstring): G makes `pack` times as many samples.
    config.batch_size *= config.pack
    return config


def set_metz_networks(config) -> None:
    """The unrolled GAN notebook's networks, loss, optimisers and updates (sources in the
    module docstring)."""
    config.mlp_d_maxout = False
    config.mlp_activation = "tanh"
    config.mlp_orthogonal_gain = 1.4
    config.g_width = config.d_width = 128
    config.latent_dim = 256
    config.batch_size = 512
    config.loss = "minimax"
    config.g_learning_rate, config.d_learning_rate = 1e-3, 1e-4
    config.simultaneous_updates = True  # both ops in one sess.run
    config.unrolled_objective = "saddle"  # minimize(-unrolled_loss)
    config.num_train_steps = 25_000


def set_pacgan_networks(config) -> None:
    """PacGAN's 2D networks and optimiser (sources in the module docstring)."""
    config.latent_dim = 2
    config.g_width, config.mlp_g_depth, config.mlp_g_batch_norm = 400, 4, True
    config.d_width, config.mlp_d_depth, config.mlp_maxout_pieces = 200, 3, 5
    config.mlp_d_maxout = True
    config.mlp_init_std = 0.02
    config.g_learning_rate = config.d_learning_rate = 1e-4
    config.g_beta1 = config.d_beta1 = 0.8
    config.simultaneous_updates = True  # PacGAN's (ALI's) training rule
    config.batch_size = 100
    # 400 epochs of 100,000 rows in batches of 100.
    config.num_train_steps = 400 * 100_000 // 100
