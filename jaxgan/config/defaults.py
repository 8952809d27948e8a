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
    # Train steps per compiled call (a lax.scan over them), to save the per-call overhead
    # of small, fast steps. Measure first (python -m jaxgan.bench): on the 2-core CPU,
    # 50 per call took ring8's MLP GAN from 5.9 to 5.4 ms a step, but 20 per call made
    # its unrolled GAN slower (23.5 to 36.8 ms). Results equal one step per call up to
    # float rounding (the compiled code differs, so not bitwise). Logging, checkpoints
    # and the end of training still happen at their exact steps.
    config.steps_per_dispatch = 1

    # --- Data ------------------------------------------------------------------
    # Dataset: `NAME` or `NAME:ARGUMENT`, NAME a module in jaxgan/data/datasets/:
    # `mnist[:test]` (embedded, offline), `fashion_mnist[:test]`, `folder:PATH`,
    # `npz:PATH`, `tfds:NAME[:SPLIT]`; the mode-collapse benchmarks `ring8[:N]`,
    # `grid25[:N]`, `metz_ring[:N]` (2D points: set data_dim = 2) and
    # `stacked_mnist[:N]` (28x28x3, 1000 modes), `prepared:DIR` (made by
    # `python -m jaxgan.prepare_dataset`, read from disk). See the README's "Datasets" and
    # "Mode-collapse laboratory".
    config.dataset = "mnist"
    # Folder of the dataset's files when not the default ("" = default): for
    # fashion_mnist, the folder of its IDX files (/usr/share/datasets/fashion-mnist);
    # for tfds, TFDS's data_dir ($TFDS_DATA_DIR or ~/tensorflow_datasets).
    config.data_dir = ""
    # folder: labels from the first-level sub-folder names (PATH/<class>/...), classes
    # numbered from 0 in sorted order. Off: the images have no labels.
    config.folder_labels = False
    # folder: leave out files that are not readable PNG/JPEG/WebP images (counted on
    # every load) instead of stopping with an error naming the first one.
    config.folder_skip_bad_files = False
    # Side of the square images fed to the models, in pixels (28, 32 or 64).
    # Dataset images are resized to it.
    config.image_size = 28
    # 1 (grey) or 3 (RGB); grey datasets are repeated to 3 channels when 3.
    config.num_channels = 1
    # 0: the data are images (image_size, num_channels). D > 0: the data are vectors of D
    # numbers (the 2D benchmarks ring8 and grid25), used unscaled; only the mlp model
    # takes them, and image-only features (DiffAugment, FID) are refused.
    config.data_dim = 0
    # Doubles the training set with each image mirrored left-right (StyleGAN2-ADA's
    # --mirror; ProGAN's mirror_augment flips each image at random instead): an epoch is
    # then 2N images, each shown once as it is and once mirrored.
    config.x_flip = False
    # Real batches prepared ahead of the step, on a background thread.
    config.prefetch_batches = 2

    # --- Family ----------------------------------------------------------------
    # The GAN family: a module of jaxgan/families/ (`gan`: G(z) against D(x), every
    # loss and trick below; `bigan`: BiGAN/ALI, an encoder E with G against a joint
    # D(x, z); `ssgan`: the self-supervised GAN, gan with a rotation loss; `progan`:
    # progressive growing; `cyclegan`, `pix2pix`, `srgan`: image-to-image), or the
    # dotted path of a family module of your own.
    config.family = "gan"
    # bigan family (configs/bigan.py, configs/ali.py): `mlp` (BiGAN's permutation-
    # invariant MNIST nets) or `conv` (ALI-style convolutional nets at 28 or 32 px).
    config.bigan_nets = "mlp"
    # E(x): `deterministic` (BiGAN) or `gaussian` (ALI: mean and log-std, z = mu + sigma eps).
    config.bigan_encoder = "deterministic"
    # The prior of z: `uniform` on [-1, 1] (BiGAN) or `normal` N(0, I) (ALI).
    config.bigan_latent = "uniform"
    # Dropout on D's inputs (ALI: 0.2); 0 is none.
    config.bigan_d_dropout = 0.0
    # L2 weight decay added to every net's gradient (BiGAN's code: 2.5e-5).
    config.bigan_weight_decay = 0.0
    # ssgan family (configs/ssgan.py): the weights of D's rotation loss on rotated reals
    # (beta) and G's on rotated fakes (alpha), and the images in each rotation batch (4n:
    # the last n of the batch in 4 rotations; 0 is 4 x batch_size, every image).
    config.rotation_weight_d = 1.0
    config.rotation_weight_g = 0.2
    config.rotated_batch_size = 0
    # cyclegan family (jaxgan/families/cyclegan.py): residual blocks of the ResNet G (9 at
    # 256 px, 6 at 128), the cycle weights lambda_A and lambda_B, the identity weight
    # (a fraction of them; 0 is off) and the history of fakes each D trains on.
    config.cyclegan_blocks = 9
    config.cyclegan_lambda_a = 10.0
    config.cyclegan_lambda_b = 10.0
    config.cyclegan_lambda_identity = 0.5
    config.cyclegan_pool_size = 50
    # Its learning rate: constant for translation_epochs epochs, then linearly down over
    # translation_decay_epochs (the reference's rule, never 0), counted in epochs of
    # translation_epoch_steps steps (0: the data's epoch, the larger domain's images over
    # batch_size, set when training starts; a library user's step without it keeps a
    # constant rate).
    config.translation_epochs = 100
    config.translation_decay_epochs = 100
    config.translation_epoch_steps = 0
    # pix2pix family (jaxgan/families/pix2pix.py): the L1 weight, the U-Net's
    # downsamplings (8: unet_256, 7: unet_128), and which half of each pair is the input
    # (the reference's --direction: "BtoA" learns B -> A, as its facades example does).
    config.pix2pix_lambda_l1 = 100.0
    config.pix2pix_downs = 8
    config.pix2pix_direction = "AtoB"
    # srgan family (jaxgan/families/srgan.py): the stage ("mse": SRResNet; "gan": SRGAN),
    # the upscaling factor, SRResNet's residual blocks, the content loss ("mse"; "vgg",
    # the paper's, from torchvision's VGG19 file given once in srgan_vgg_weights and
    # cached; "inception", offline, not the paper's) and the adversarial loss's weight.
    config.srgan_stage = "mse"
    config.srgan_scale = 4
    config.srgan_blocks = 16
    config.srgan_content = "mse"
    config.srgan_vgg_weights = ""
    config.srgan_adversarial_weight = 1e-3
    # progan family (configs/progan.py): the schedule in thousands of images shown to D,
    # each resolution stable for progan_training_kimg, then the next one faded in over
    # progan_transition_kimg, from progan_initial_resolution up to image_size, evaluated
    # every progan_minibatch_repeats steps (the reference's TrainingSchedule).
    config.progan_training_kimg = 600.0
    config.progan_transition_kimg = 600.0
    config.progan_initial_resolution = 4
    config.progan_minibatch_repeats = 4
    # Channel widths min(progan_fmap_base / 2^stage, progan_fmap_max) (4x4..32x32: 512).
    config.progan_fmap_base = 8192
    config.progan_fmap_max = 512
    # D's minibatch standard deviation over groups of this many samples (1: off).
    config.progan_mbstd_group_size = 4
    # D's loss: WGAN-GP with this weight and target norm, plus drift * D(real)^2.
    config.progan_gp_weight = 10.0
    config.progan_gp_target = 1.0
    config.progan_drift = 0.001
    # Adam's state re-initialised at every fade-in and every stable phase.
    config.progan_reset_optimizer = True
    # stylegan2 family (configs/stylegan2.py; stylegan2-ada-pytorch's names in brackets):
    # mapping layers (map), channels min(channel_base / resolution, channel_max) (fmaps x
    # 32768), activations clamped to +-conv_clamp (0: off), D's blocks `resnet` or `orig`,
    # minibatch-stddev group (mbstd).
    config.stylegan2_mapping_layers = 8
    config.stylegan2_channel_base = 32768
    config.stylegan2_channel_max = 512
    config.stylegan2_conv_clamp = 256.0
    config.stylegan2_d_architecture = "resnet"
    config.stylegan2_mbstd_group_size = 4
    # R1 weight (gamma), path-length weight, decay of its mean and the batch shrink, the
    # style-mixing probability, and the lazy-regularisation intervals (0: every step in
    # the main phase, no learning-rate adjustment).
    config.stylegan2_r1_gamma = 10.0
    config.stylegan2_pl_weight = 2.0
    config.stylegan2_pl_decay = 0.01
    config.stylegan2_pl_batch_shrink = 2
    config.stylegan2_style_mixing = 0.9
    config.stylegan2_g_reg_interval = 4
    config.stylegan2_d_reg_interval = 16
    # G's moving average: half-life in thousands of images (ema), ramped up over the
    # first images shown x stylegan2_ema_rampup (ramp; 0: none).
    config.stylegan2_ema_kimg = 10.0
    config.stylegan2_ema_rampup = 0.0
    # With compute_dtype "bfloat16": the blocks of this many highest resolutions (at
    # least 8x8) compute in bfloat16 (the reference's num_fp16_res, in float16 there).
    config.stylegan2_num_fp16_res = 4
    # Image-to-image data (unpaired:PATH, mnist_thick): training images are resized to
    # translation_load_size (0: 286/256 of image_size, the reference's 286 for 256) and
    # cropped at random to image_size, and mirrored at random when translation_flip.
    config.translation_load_size = 0
    config.translation_flip = True

    # --- Models ----------------------------------------------------------------
    # Model module under jaxgan/nn/models/: `dcgan` (Radford et al. 2015), `mlp`
    # (Goodfellow et al. 2014), `resnet` (the SNGAN ResNet for 32x32, Miyato et al.
    # 2018) or `biggan` (BigGAN's nets at 32, 64 and 128 px), or `infogan` (Lucic et al.
    # 2018). It must define `Generator` and `Discriminator`.
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

    # Discriminator normalization: none, batch_norm, layer_norm or spectral_norm
    # (jaxgan/nn/normalization.py). DCGAN's is batch_norm.
    config.d_norm = "batch_norm"
    # Spectral normalization of the generator's weights too (SAGAN, BigGAN).
    config.g_spectral_norm = False
    # Cross-sample features before D's last layer, against mode collapse
    # (jaxgan/nn/minibatch.py): none, minibatch_discrimination (Salimans et al. 2016:
    # `minibatch_kernels` B x `minibatch_kernel_dim` C) or minibatch_stddev (Karras et
    # al. 2018: groups of `minibatch_group_size`).
    config.minibatch_features = "none"
    config.minibatch_kernels = 100
    config.minibatch_kernel_dim = 5
    config.minibatch_group_size = 4
    # PacGAN (Lin et al. 2018): D judges `pack` samples at once, concatenated along
    # channels (images) or features (vectors), real with real and fake with fake. The
    # batch must divide by it; 1 is off.
    config.pack = 1
    # mlp's D: maxout hidden layers (Goodfellow et al. 2014's MNIST D), or, when False,
    # dense layers with mlp_activation (the 2D mixture networks of Metz et al. 2017).
    config.mlp_d_maxout = True
    # mlp's hidden layers in G and in D (each of g_width / d_width units).
    config.mlp_g_depth = 2
    config.mlp_d_depth = 2
    # mlp's G: BatchNorm then ReLU in every hidden layer, whose Dense then has no bias
    # (PacGAN's 2D generator; Blocks' BatchNorm settings, see jaxgan/nn/models/mlp.py).
    config.mlp_g_batch_norm = False
    # Affine pieces of each maxout unit in mlp's D (Goodfellow et al. 2014: 5).
    config.mlp_maxout_pieces = 5
    # mlp: every kernel of G and D drawn from N(0, mlp_init_std), biases 0 (PacGAN's and
    # VEEGAN's 0.02); 0 keeps Flax's default initialisation (LeCun normal).
    config.mlp_init_std = 0.0
    # mlp: every kernel of G and D orthogonal times this gain, biases 0 (the unrolled GAN
    # notebook's 1.4); 0 is off. Excludes mlp_init_std.
    config.mlp_orthogonal_gain = 0.0
    # mlp: the hidden layers' nonlinearity in G and in a non-maxout D: relu or tanh (the
    # unrolled GAN notebook's).
    config.mlp_activation = "relu"

    # --- Class conditioning (jaxgan/nn/conditioning.py) ----------------------------------
    # Class-conditional G and D (Mirza & Osindero 2014): G draws fakes of given
    # classes, D judges (image, class) pairs. Needs a dataset with labels.
    config.conditional = False
    # Number of classes; 0 takes the dataset's. Training refuses a number that differs
    # from the dataset's, and records the resolved number in the workdir's config.json.
    config.num_classes = 0
    # How G and D take the label: `concat` (a learned label embedding appended to z and
    # to D's input; dcgan, mlp, resnet) or `projection` (conditional BatchNorm in G and
    # the projection discriminator, Miyato & Koyama 2018; dcgan, resnet).
    config.conditional_form = "concat"
    # Size of the label embedding of the concat form (in G and in D).
    config.label_embedding_dim = 32

    # --- Objective ---------------------------------------------------------------
    # Loss name, a function in jaxgan/objectives/losses.py: non_saturating, minimax, wasserstein,
    # hinge, least_squares or least_squares_sigmoid (on D's probabilities, as Lucic et al.).
    config.loss = "non_saturating"
    # Target of real samples in D's loss: 0.9 is one-sided label smoothing (Salimans
    # et al. 2016). For non_saturating, minimax and the least-squares losses.
    config.real_label = 1.0
    # Gradient penalty on D (jaxgan/objectives/penalties.py): none, wgan_gp, r1, dragan or
    # dragan_sigmoid (on D's probability, as Lucic et al.), times penalty_weight (lambda =
    # 10 in WGAN-GP and DRAGAN; gamma in R1).
    config.penalty = "none"
    config.penalty_weight = 10.0
    # Clip D's weights to [-c, c] after each update (WGAN: 0.01); 0 is off.
    config.d_weight_clip = 0.0
    # Differentiable augmentation (Zhao et al. 2020, jaxgan/objectives/diffaugment.py) of every
    # image D sees, real and fake, in D's and G's updates and the penalties: a
    # comma-separated policy of `color`, `translation`, `cutout`, e.g.
    # "color,translation,cutout" (the paper's for little data); "" is off.
    config.diffaugment = ""
    # Discriminator updates per generator update, each on its own real batch.
    config.d_steps = 1
    # Unrolled GAN (Metz et al. 2017): G's loss differentiates through this many
    # extra D optimiser steps (0 = off). The unrolled steps reuse the step's last real
    # batch and are not kept: D's real update is the d_steps above. They start from D as
    # updated, or as before its update with simultaneous_updates (the notebook's way).
    config.unroll_steps = 0
    # G's objective at the unrolled D: `g_loss` (its own loss of the fakes there) or
    # `saddle` (minus D's loss there, reals included: Metz et al.'s f, the notebook's
    # minimize(-unrolled_loss); for the zero-sum losses minimax and wasserstein).
    config.unrolled_objective = "g_loss"
    # Whether G's gradient flows through the unrolled D steps themselves (Metz et al.'s
    # eq. 7 second term: how D would react to G's move) or only through the unrolled D's
    # judgement of the fakes, the steps taken with the fakes as constants (False: first
    # order, like reimplementations that train a copy of D on fresh batches).
    config.unrolled_second_order = True
    # G's gradient against D as it was before the step's last D update (both updates
    # from the same parameters, as in ALI's and PacGAN's training code), instead of
    # against the freshly updated D (pytorch/examples, the default).
    config.simultaneous_updates = False
    # D's step runs D once over [fakes; reals] (BigGAN-PyTorch's D step: one spectral-norm
    # power iteration and one set of batch statistics per D step) instead of twice.
    config.d_joint_pass = False
    # Exponential moving average of G's parameters, used for samples and evaluation
    # (Yazici et al. 2019); 0 is off, e.g. 0.999. The averaged G uses the live G's
    # BatchNorm running statistics unless ema_collections.
    config.g_ema_decay = 0.0
    # Iteration (counted from 1) from which the moving averages average; before it they
    # copy the parameters (BigGAN-PyTorch's ema_start: 1000 in its CIFAR script). 0: from
    # the first step.
    config.ema_start = 0
    # Average the averaged nets' collections too (BatchNorm running statistics, spectral
    # norm's u and sigma), as BigGAN-PyTorch's ema averages every buffer of its state
    # dict; the averaged net then samples with them. False: the live net's statistics.
    config.ema_collections = False

    # BigGAN/SAGAN self-attention (jaxgan/nn/attention.py) in the ResNet's G and D at this
    # feature-map size (8 or 16 at 32x32; with the biggan model, one of G's block sizes,
    # e.g. 64 at 128 px); 0 is none.
    config.attention_resolution = 0
    # The ResNet's initialisation (jaxgan/nn/inits.py): "default" (Xavier/He-style),
    # "biggan": BigGAN-PyTorch's N02 (N(0, 0.02) weights, PyTorch's default biases,
    # 1 + N(0, 0.02) class gains), or "biggan_ortho": its `ortho` (orthogonal weights).
    config.resnet_init = "default"
    # The biggan model (jaxgan/nn/models/biggan.py): a shared class embedding of this size
    # feeding every conditional BatchNorm of G through linear layers (BigGAN's G_shared,
    # 128; 0: per-class tables), and hierarchical latents (z cut into one chunk for G's
    # input and one per block, each joined to the shared embedding).
    config.biggan_shared_dim = 0
    config.biggan_hierarchical = False

    # --- Optimisers (separate for G and D; different rates are TTUR) -----------
    # adam (betas below) or rmsprop (decay 0.99, as PyTorch's and WGAN's).
    config.optimizer = "adam"
    config.g_learning_rate = 2e-4
    config.d_learning_rate = 2e-4
    config.g_beta1 = 0.5
    config.g_beta2 = 0.999
    config.d_beta1 = 0.5
    config.d_beta2 = 0.999
    # Learning-rate schedule of both nets, in steps (jaxgan/training/schedules.py):
    # constant, or linear (to 0 at num_train_steps, Mimicry's and SNGAN's code's decay);
    # after lr_warmup_steps of linear warm-up from 0 when > 0.
    config.lr_schedule = "constant"
    config.lr_warmup_steps = 0
    # One net's own schedule and warm-up ('' and -1 follow the two above).
    config.g_lr_schedule = ""
    config.d_lr_schedule = ""
    config.g_lr_warmup_steps = -1
    config.d_lr_warmup_steps = -1
    # BigGAN's orthogonal regularisation of G's weights, as its code applies it
    # (jaxgan/objectives/orthogonal.py: half the paper's R_beta); 1e-4 in BigGAN, 0 off.
    config.g_orthogonal_reg = 0.0

    # --- Fine-tuning (jaxgan/training/finetune.py) ----------------------------------
    # Start a new run from another run's weights: "RUN_DIR" (latest) or "RUN_DIR:STEP".
    # Every net's parameters, statistics and moving average are copied; the networks
    # must be the same. init_optimizer copies the optimiser states too.
    config.init_from = ""
    config.init_optimizer = False
    # FreezeD (Mo et al. 2020): D's first N layers (top-level modules, in the order D
    # applies them; stylegan2: the reference's numbering, stylegan2.d_layers) get no
    # updates. 0 is off.
    config.freeze_d_layers = 0

    # --- Samples -----------------------------------------------------------------
    # Images in the fixed-latent sample grid written at every checkpoint (points of the
    # scatter plot for 2D data). A
    # conditional run's grid has one row per class of ceil(num_samples / num_classes).
    config.num_samples = 64
    # Sample with G's running BatchNorm statistics (eval mode, as at test time).
    # False normalises with the statistics of the sample batch itself.
    config.sample_with_running_stats = True
    # BigGAN's "standing statistics": before sampling (grids, jaxgan.sample, FID), G's
    # BatchNorm statistics are re-estimated for the parameters it samples with (its moving
    # average) over this many training-mode batches of batch_size fresh latents, the mean
    # of their batch means and variances (BigGAN-PyTorch: 16). 0: G's running averages.
    config.standing_stats_batches = 0
    # Sample (grids, jaxgan.sample, FID) with the moving average of G's parameters when
    # the run keeps one (g_ema_decay > 0); False samples with G's own parameters.
    config.sample_with_ema = True

    # --- Evaluation --------------------------------------------------------------
    # FID (and KID, precision/recall, density/coverage) of the generator every this
    # many steps, at checkpoint steps, through the code of `python -m jaxgan.evaluate`:
    # written to eval/metrics_<step>.json and TensorBoard `eval/`. 0 turns it off.
    # On stacked_mnist it records the mode metrics instead (jaxgan/metrics/mode_evaluation.py);
    # vector data refuse it.
    # It should be a multiple of checkpoint_every_steps. On CPU it is slow (the
    # Inception network runs about 13 images/s on 2 cores); the reference features of the
    # dataset are computed on the first use and cached.
    config.fid_every_steps = 0
    # Generated images per evaluation during training (papers report 50k; fewer
    # bias FID upwards, so compare only runs scored with the same count).
    config.fid_num_samples = 5000
    # Real images of the reference (a fixed random subset of the split); 0 = all.
    config.fid_num_real = 0
    # The reference's dataset, as config.dataset is written (e.g. `mnist:test`, the 10k
    # test images of Lucic et al.'s protocol); "" is the training set itself. Used by
    # `python -m jaxgan.evaluate` and the evaluation during training.
    config.fid_reference = ""

    # Weights & Biases (optional: pip install -e ".[wandb]"): a project name logs the same
    # scalars and sample grids as TensorBoard to a W&B run named after the workdir, which
    # a resumed run continues (jaxgan/runtime/wandb_log.py); "" logs nowhere else.
    # WANDB_MODE=offline logs without an account.
    config.wandb_project = ""
    config.wandb_entity = ""  # W&B user or team; "" is the account's default
    return config
