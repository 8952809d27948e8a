"""What every jaxgan command does with flags and errors: one line, a non-zero exit."""

import contextlib
import sys
from collections.abc import Iterator

from absl import flags

from jaxgan.runtime.errors import UserError


def one_line(error: Exception) -> str:
    """The first line of an error, plus the last line of any traceback in it, which
    names the cause (e.g. a config file's own ValueError or a missing file)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    cause = [line for line in lines if "Error" in line.split(":")[0] or line.startswith("[Errno")]
    return lines[0] if not cause or cause[-1] == lines[0] else f"{lines[0]} {cause[-1]}"


def fail(message: str, status: int = 2) -> None:
    print(f"jaxgan: error: {message}", file=sys.stderr)
    sys.exit(status)


def parse_flags(argv: list[str]) -> list[str]:
    """absl's parsing, with a bad flag or config override reported in one line instead of
    a usage dump or a traceback."""
    try:
        return flags.FLAGS(argv)
    except (flags.Error, OSError) as error:
        # OSError: ml_collections' loader reports a config file it cannot read with it.
        fail(one_line(error))
    except (AttributeError, KeyError) as error:
        # ml_collections raises these for --config.FIELD overrides of unknown fields.
        fail(f"unknown config field {str(error).strip(chr(34))}: see jaxgan/config/defaults.py")


def _drop_closed_event_loop_reports(report) -> None:
    # When an Orbax save or restore fails, its asyncio loop closes while TensorStore
    # still completes the reads and writes in flight; each completion's callback then
    # raises "Event loop is closed" in a TensorStore thread, which Python reports as
    # unraisable: dozens of tracebacks burying the one error line. The error itself
    # reaches us through Orbax, so these reports are dropped; any other is shown.
    closed = isinstance(report.exc_value, RuntimeError) and str(report.exc_value) == (
        "Event loop is closed"
    )
    if not closed:
        sys.__unraisablehook__(report)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """UserError -> its message, exit 2; Ctrl-C -> exit 130; anything else propagates.

    Also drops the reports of TensorStore callbacks that outlive a failed Orbax call (for
    the rest of the process: they come from threads, up to its exit)."""
    sys.unraisablehook = _drop_closed_event_loop_reports
    try:
        yield
    except UserError as error:
        fail(str(error))
    except KeyboardInterrupt:
        print("jaxgan: interrupted", file=sys.stderr)
        sys.exit(130)
