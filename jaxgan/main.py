"""Trains a GAN: `python -m jaxgan.main --config=configs/dcgan.py --workdir=runs/dcgan`.

Run it again with the same --workdir to resume; --config may then be left out, and the
workdir's config.json is used. Override any config field with --config.FIELD=VALUE.
"""

import sys

from absl import app, flags, logging
from ml_collections import config_flags

from jaxgan import interruption, train, workdir
from jaxgan.errors import UserError

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file, e.g. configs/dcgan.py or configs/dcgan.py:64.", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory of the run.", required=True)


def requested_config():
    try:
        config = _CONFIG.value
        if config is not None:
            config.to_dict()  # a file that failed to load raises only when read
        return config
    except OSError as error:
        raise UserError(one_line(error)) from error


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # Orbax reports every checkpoint step at INFO through absl; keep the console for ours.
    logging.set_verbosity(logging.WARNING)
    try:
        config = requested_config() or workdir.read_config(_WORKDIR.value)
        train.train_and_evaluate(config, _WORKDIR.value)
    except UserError as error:
        print(f"jaxgan: error: {error}", file=sys.stderr)
        sys.exit(2)
    except interruption.TrainingInterrupted as stopped:
        print(f"jaxgan: {stopped}", file=sys.stderr)
        sys.exit(128 + stopped.signum)
    except KeyboardInterrupt:
        print("jaxgan: interrupted (no checkpoint saved by this second signal)", file=sys.stderr)
        sys.exit(130)


def one_line(error: Exception) -> str:
    """The first line of a flag error, plus the last line of any traceback in it, which
    names the cause (e.g. a config file's own ValueError or a missing file)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    cause = [line for line in lines if "Error" in line.split(":")[0] or line.startswith("[Errno")]
    return lines[0] if not cause or cause[-1] == lines[0] else f"{lines[0]} {cause[-1]}"


def parse_flags(argv: list[str]) -> list[str]:
    """absl's parsing, with config errors turned into one line instead of a traceback."""
    try:
        return flags.FLAGS(argv)
    except (flags.Error, OSError) as error:
        # OSError: ml_collections' loader reports a config file it cannot read with it.
        message = one_line(error)
    except (AttributeError, KeyError) as error:
        # ml_collections raises these for --config.FIELD overrides of unknown fields.
        message = f"unknown config field {str(error).strip(chr(34))}: see jaxgan/config_defaults.py"
    print(f"jaxgan: error: {message}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
