"""Stopping a run cleanly on Ctrl-C (SIGINT) or preemption (SIGTERM).

The first signal only sets a flag: the loop finishes its step, saves a checkpoint and
stops, so the run resumes where it was. A second signal interrupts at once.
"""

import signal
import threading


class TrainingInterrupted(Exception):
    """Raised after the checkpoint of an interrupted run is saved."""

    def __init__(self, signum: int, step: int):
        self.signum, self.step = signum, step
        super().__init__(
            f"stopped by {signal.Signals(signum).name} at step {step}; a checkpoint of that "
            "step is saved: run the same command to resume"
        )


class StopRequest:
    """Context manager: `requested` becomes the signal number after SIGINT or SIGTERM."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested: int | None = None
        self._previous = {}

    def _handle(self, signum, frame):
        if self.requested is not None:  # the second signal: stop now
            signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))
            raise KeyboardInterrupt
        self.requested = signum

    def __enter__(self) -> "StopRequest":
        # Handlers can only be installed from the main thread; elsewhere (a user's own
        # thread) the default behaviour stays.
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
