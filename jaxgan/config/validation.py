"""Checks of a config's fields and values, each a clear error."""

import math
import warnings

import ml_collections

from jaxgan import families
from jaxgan.config import defaults as config_defaults
from jaxgan.data import datasets
from jaxgan.nn import conditioning, minibatch, models, normalization
from jaxgan.nn.models import mlp
from jaxgan.objectives import diffaugment, losses, penalties
from jaxgan.runtime.errors import UserError
from jaxgan.training import schedules

TYPE_NAMES = {int: "an integer", float: "a finite number", str: "a string", bool: "True or False"}


def check_fields(config: ml_collections.ConfigDict) -> None:
    """Every field is one base_config() has, of its type (an integer may stand for a
    float): a typo or a hand-edited config.json gets one line naming the field."""
    defaults = config_defaults.base_config()
    unknown = sorted(set(config) - set(defaults))
    if unknown:
        raise UserError(
            f"unknown config field(s) {', '.join(unknown)}: see jaxgan/config/defaults.py"
        )
    for field, value in config.items():
        expected = type(defaults[field])
        if expected is float:
            fits = isinstance(value, int | float) and not isinstance(value, bool)
            fits = fits and math.isfinite(value)
        else:
            fits = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
        if not fits:
            if isinstance(value, ml_collections.ConfigDict):  # its repr spans lines
                value = value.to_dict()
            raise UserError(f"config.{field} must be {TYPE_NAMES[expected]}, got {value!r}")


def check_family(config: ml_collections.ConfigDict) -> None:
    """config.family names a family, and no field of another family is changed from its
    default: the selected family would ignore it, silently."""
    family = families.of(config)
    defaults = config_defaults.base_config()
    for other in families.available():
        if other == config.family:
            continue
        for field in families.load(other).OWN_FIELDS:
            if field not in getattr(family, "OWN_FIELDS", ()) and config[field] != defaults[field]:
                raise UserError(
                    f"config.{field}={config[field]!r} is a setting of the {other} family, "
                    f"which the {config.family} family does not use: leave it at its default "
                    f"({defaults[field]!r}) or set config.family={other!r}"
                )
    check = getattr(family, "check_config", None)
    if check is not None:
        check(config)


def validate(config: ml_collections.ConfigDict) -> None:
    check_fields(config)
    check_family(config)
    positive = (
        "batch_size",
        "num_train_steps",
        "log_every_steps",
        "checkpoint_every_steps",
        "keep_checkpoints",
        "d_steps",
        "latent_dim",
        "g_width",
        "d_width",
        "num_samples",
        "image_size",
        "steps_per_dispatch",
    )
    for field in positive:
        value = config[field]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise UserError(f"config.{field} must be a positive integer, got {value!r}")
    if not 0 <= config.seed < 2**63 - 1:  # numpy's data order takes no negative seed
        raise UserError(f"config.seed must be in [0, 2**63 - 1), got {config.seed!r}")
    for field in ("g_learning_rate", "d_learning_rate"):
        if not config[field] > 0:
            raise UserError(f"config.{field} must be positive, got {config[field]!r}")
    for field in ("g_beta1", "g_beta2", "d_beta1", "d_beta2"):
        if not 0 <= config[field] < 1:
            raise UserError(f"config.{field} must be in [0, 1), got {config[field]!r}")
    if config.num_channels not in (1, 3):
        raise UserError(f"config.num_channels must be 1 or 3, got {config.num_channels!r}")
    if config.compute_dtype not in ("float32", "bfloat16"):
        raise UserError(
            f"config.compute_dtype must be 'float32' or 'bfloat16', got {config.compute_dtype!r}"
        )
    if config.prefetch_batches < 0:
        raise UserError("config.prefetch_batches must be >= 0")
    losses.get(config.loss, config.real_label)
    penalties.get(config.penalty)
    if config.get("ema_collections") and not families.of(config).ema_decays(config):
        raise UserError(
            "config.ema_collections averages the statistics of the nets this run averages, "
            "but it averages none: set g_ema_decay > 0 (or leave ema_collections False)"
        )
    normalization.check(config.d_norm)
    minibatch.Options.from_config(config)
    if not 0 < config.real_label <= 1:
        raise UserError(f"config.real_label must be in (0, 1], got {config.real_label!r}")
    if config.unroll_steps < 0:
        raise UserError(f"config.unroll_steps must be >= 0, got {config.unroll_steps!r}")
    if config.unrolled_objective not in ("g_loss", "saddle"):
        raise UserError(
            f"config.unrolled_objective must be 'g_loss' or 'saddle', got "
            f"{config.unrolled_objective!r}"
        )
    if not config.unrolled_second_order and not config.unroll_steps:
        raise UserError(
            "config.unrolled_second_order=False changes G's gradient through unrolled D "
            "steps, and config.unroll_steps is 0: set unroll_steps > 0 or leave it True"
        )
    if config.unrolled_objective == "saddle" and config.loss not in losses.ZERO_SUM:
        raise UserError(
            f"config.unrolled_objective='saddle' (G maximises D's loss) needs a zero-sum "
            f"loss, one of {losses.ZERO_SUM}; config.loss is {config.loss!r}"
        )
    if not 0 <= config.g_ema_decay < 1:
        raise UserError(f"config.g_ema_decay must be in [0, 1), got {config.g_ema_decay!r}")
    if config.d_weight_clip < 0 or config.penalty_weight < 0:
        raise UserError("config.d_weight_clip and config.penalty_weight must be >= 0")
    if config.optimizer not in ("adam", "rmsprop"):
        raise UserError(f"config.optimizer must be 'adam' or 'rmsprop', got {config.optimizer!r}")
    schedules.check(config)
    for field, off in (("attention_resolution", 0), ("resnet_init", "default")):
        if config.get(field, off) != off and config.model not in ("resnet", "biggan"):
            raise UserError(
                f"config.{field} is for model='resnet' or 'biggan' (their G and D); "
                f"config.model is {config.model!r}"
            )
    for field in ("biggan_shared_dim", "biggan_hierarchical"):
        if config.get(field) and config.model != "biggan":
            raise UserError(
                f"config.{field} is for model='biggan'; config.model is {config.model!r}"
            )
    if config.get("d_joint_pass", False) and config.minibatch_features != "none":
        raise UserError(
            "config.d_joint_pass runs D on reals and fakes together, so its mini-batch features "
            "would compare the two: set config.minibatch_features='none' or d_joint_pass=False"
        )
    start = config.get("ema_start", 0)
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise UserError(f"config.ema_start must be an integer >= 0, got {start!r}")
    if not config.get("g_orthogonal_reg", 0.0) >= 0:
        raise UserError(f"config.g_orthogonal_reg must be >= 0, got {config.g_orthogonal_reg!r}")
    for field in ("freeze_d_layers", "standing_stats_batches"):
        value = config.get(field, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise UserError(f"config.{field} must be an integer >= 0, got {value!r}")
    _validate_evaluation(config)
    models.get_module(config.model)
    name = config.dataset.partition(":")[0]
    if name not in datasets.available():
        raise UserError(
            f"unknown dataset {config.dataset!r}: config.dataset must be one of "
            f"{datasets.available()}"
        )
    validate_conditioning(config)
    diffaugment.parse(config.diffaugment)
    validate_vectors_and_packing(config)
    validate_mlp(config)
    check_model = getattr(models.get_module(config.model), "check_config", None)
    # A family with nets of its own (cyclegan's) never builds config.model.
    if check_model is not None and getattr(families.of(config), "USES_MODEL", True):
        check_model(config)


def validate_mlp(config: ml_collections.ConfigDict) -> None:
    """The mlp model's shape and initialisation options (checked for every model, so
    that a bad value is refused before anyone switches to the mlp)."""
    for field, low in (("mlp_g_depth", 1), ("mlp_d_depth", 1), ("mlp_maxout_pieces", 2)):
        if config[field] < low:
            raise UserError(f"config.{field} must be an integer >= {low}, got {config[field]!r}")
    if config.mlp_init_std < 0:
        raise UserError(
            f"config.mlp_init_std must be >= 0 (0: Flax's default initialisation), "
            f"got {config.mlp_init_std!r}"
        )
    if config.mlp_orthogonal_gain < 0:
        raise UserError(
            f"config.mlp_orthogonal_gain must be >= 0 (0: off), got {config.mlp_orthogonal_gain!r}"
        )
    if config.mlp_init_std > 0 and config.mlp_orthogonal_gain > 0:
        raise UserError(
            "config.mlp_init_std and config.mlp_orthogonal_gain both pick the mlp's "
            "initialisation: set one of them to 0"
        )
    if config.mlp_activation not in mlp.ACTIVATIONS:
        raise UserError(
            f"config.mlp_activation must be one of {sorted(mlp.ACTIVATIONS)}, "
            f"got {config.mlp_activation!r}"
        )


def validate_conditioning(config: ml_collections.ConfigDict) -> None:
    """The conditioning fields; the number of classes is checked against the dataset
    when training loads it (conditioning.resolve_num_classes)."""
    if not isinstance(config.conditional, bool):
        raise UserError(f"config.conditional must be True or False, got {config.conditional!r}")
    if not isinstance(config.num_classes, int) or config.num_classes < 0:
        raise UserError(
            f"config.num_classes must be an integer >= 0 (0: the dataset's), "
            f"got {config.num_classes!r}"
        )
    if config.label_embedding_dim <= 0:
        raise UserError(
            f"config.label_embedding_dim must be positive, got {config.label_embedding_dim!r}"
        )
    if config.conditional_form not in conditioning.FORMS:
        raise UserError(
            f"config.conditional_form must be one of {list(conditioning.FORMS)}, "
            f"got {config.conditional_form!r}"
        )
    forms = getattr(models.get_module(config.model), "CONDITIONAL_FORMS", ())
    if config.conditional and config.conditional_form not in forms:
        raise UserError(
            f"the {config.model} model supports config.conditional_form in {list(forms)}, "
            f"not {config.conditional_form!r}"
        )


def validate_vectors_and_packing(config: ml_collections.ConfigDict) -> None:
    """Vector data (config.data_dim) and PacGAN's packing (config.pack): what they
    cannot be combined with, each refused in one line."""
    for field, low in (("data_dim", 0), ("pack", 1)):
        value = config[field]
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise UserError(f"config.{field} must be an integer >= {low}, got {value!r}")
    if config.batch_size % config.pack:
        raise UserError(
            f"config.batch_size={config.batch_size} must divide by config.pack={config.pack}: "
            "D judges groups of pack samples"
        )
    if config.pack > 1 and config.conditional:
        raise UserError(
            "config.pack > 1 with config.conditional: a packed D input holds several samples "
            "of different classes, and D takes one label per input"
        )
    if config.pack > 1 and config.minibatch_features == "minibatch_stddev":
        groups = config.batch_size // config.pack
        if groups >= config.minibatch_group_size and groups % config.minibatch_group_size:
            raise UserError(
                f"config.minibatch_group_size={config.minibatch_group_size} must divide the "
                f"{groups} packed inputs per batch (batch_size / pack)"
            )
    if not config.data_dim:
        return
    if config.x_flip:
        raise UserError("config.x_flip mirrors images; vector data (data_dim > 0) have none")
    if config.model != "mlp":
        raise UserError(
            f"config.data_dim={config.data_dim} (vector data) needs config.model='mlp', "
            f"got {config.model!r}"
        )
    if config.diffaugment:
        raise UserError("config.diffaugment augments images; vector data (data_dim > 0) have none")
    if config.get("fid_every_steps", 0):
        raise UserError(
            "config.fid_every_steps: FID is for images; vector data (data_dim > 0) are "
            "scored with the mode metrics of `python -m jaxgan.evaluate`"
        )


def check_data_dim(config: ml_collections.ConfigDict, dataset: datasets.Dataset) -> None:
    """The dataset's kind (images or D-dimensional vectors; one set of images or two
    domains) must be the config's and its family's."""
    two_domains = getattr(families.of(config), "TWO_DOMAINS", False)
    if two_domains and not isinstance(dataset, datasets.TwoDomains):
        raise UserError(
            f"the {config.family} family translates between two domains, and the dataset "
            f"{config.dataset!r} is one set of images: set config.dataset to unpaired:PATH "
            "(PATH/trainA and PATH/trainB), paired:PATH or mnist_thick"
        )
    if getattr(families.of(config), "PAIRED", False) and not getattr(dataset, "paired", False):
        raise UserError(
            f"the {config.family} family learns from pairs of images, and the dataset "
            f"{config.dataset!r} has none: set config.dataset to paired:PATH (PATH/train of "
            "A|B images, or PATH/trainA and PATH/trainB of the same file names)"
        )
    if isinstance(dataset, datasets.TwoDomains) and not two_domains:
        raise UserError(
            f"the dataset {config.dataset!r} holds two domains, for an image-to-image "
            f"family (config.family='cyclegan'); the {config.family} family trains on one "
            "set of images"
        )
    if config.x_flip and (two_domains or hasattr(families.of(config), "real_batches")):
        raise UserError(
            f"config.x_flip: the {config.family} family makes its own batches "
            "(image-to-image families mirror with config.translation_flip): leave it off"
        )
    if dataset.data_dim != config.data_dim:
        kind = f"{dataset.data_dim}-D points" if dataset.data_dim else "images"
        raise UserError(
            f"the dataset {config.dataset!r} is {kind}: set config.data_dim={dataset.data_dim} "
            f"(it is {config.data_dim})"
        )


def warn_about_combinations(config: ml_collections.ConfigDict) -> None:
    """Warns (does not refuse) about settings that run but are known to be ill-posed."""
    if config.penalty != "none" and config.d_norm == "batch_norm":
        warnings.warn(
            f"config.penalty={config.penalty!r} with config.d_norm='batch_norm': BatchNorm "
            "makes each D output depend on the whole batch, so per-sample gradient "
            "penalties are ill-defined (Gulrajani et al. 2017 use layer_norm or none)",
            stacklevel=2,
        )
    if config.loss == "wasserstein" and config.penalty == "none" and config.d_weight_clip == 0:
        warnings.warn(
            "config.loss='wasserstein' without weight clipping or a gradient penalty: the "
            "critic is unconstrained and its loss can grow without bound",
            stacklevel=2,
        )


def _validate_evaluation(config: ml_collections.ConfigDict) -> None:
    # Workdirs written before these fields existed lack them; they then mean "off".
    every = config.get("fid_every_steps", 0)
    if not isinstance(every, int) or every < 0:
        raise UserError(f"config.fid_every_steps must be an integer >= 0, got {every!r}")
    if every and every % config.checkpoint_every_steps:
        raise UserError(
            f"config.fid_every_steps={every} must be a multiple of checkpoint_every_steps="
            f"{config.checkpoint_every_steps}: FID is computed at checkpoint steps"
        )
    if config.get("fid_num_samples", 2) < 2:
        raise UserError("config.fid_num_samples must be at least 2")
    num_real = config.get("fid_num_real", 0)
    if num_real < 0 or num_real == 1:
        raise UserError(f"config.fid_num_real must be 0 (all) or at least 2, got {num_real}")
    fid_reference = config.get("fid_reference", "")
    if fid_reference and fid_reference.partition(":")[0] not in datasets.available():
        raise UserError(
            f"config.fid_reference={fid_reference!r} names no dataset: give one of "
            f"{datasets.available()} as config.dataset is written (e.g. mnist:test), or "
            "'' for the training set"
        )
