"""`python -m jaxgan.bench`'s measurement (jaxgan.benchmarks.step_timing) on a tiny config; the
timings themselves are not asserted."""

import os
import subprocess
import sys

import pytest

from jaxgan.benchmarks import step_timing
from jaxgan.runtime.errors import UserError
from tests.conftest import tiny


@pytest.mark.parametrize("steps_per_dispatch", [1, 2])
def test_benchmark_reports_per_step_numbers(steps_per_dispatch):
    result = step_timing.benchmark(tiny(steps_per_dispatch=steps_per_dispatch), steps=2, warmup=1)
    assert result["steps_per_dispatch"] == steps_per_dispatch
    assert result["batch_size"] == 16 and result["backend"] == "cpu"
    # img_per_s is batch / step time, where a call of K steps counts as K steps.
    assert result["img_per_s"] == pytest.approx(16 / (result["step_ms"] / 1e3), rel=0.01)
    # The peak resident memory: at least the process's current resident pages.
    with open("/proc/self/statm") as statm:
        resident = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    assert result["peak_host_rss_bytes"] >= 0.99 * resident > 0


def test_benchmark_of_a_2d_point_config():
    config = tiny(model="mlp", dataset="ring8", data_dim=2, g_width=16, d_width=16)
    result = step_timing.benchmark(config, steps=2, warmup=1)
    assert result["config_model"] == "mlp" and result["image_size"] is None
    assert result["step_ms"] > 0


def test_interleaved_compiles_the_second_step_under_the_settings_and_takes_turns(monkeypatch):
    seen, calls = [], []
    prepare, timed = step_timing._prepared_step, step_timing._timed_call

    def prepared(config):
        seen.append(os.environ.get("JAXGAN_TEST_SETTING"))
        compiled, state, batch, frozen = prepare(config)
        return (len(seen), compiled), state, batch, frozen

    def timed_call(compiled, state, batch, frozen=()):
        calls.append(compiled[0])
        return timed(compiled[1], state, batch, frozen)

    monkeypatch.setattr(step_timing, "_prepared_step", prepared)
    monkeypatch.setattr(step_timing, "_timed_call", timed_call)
    monkeypatch.delenv("JAXGAN_TEST_SETTING", raising=False)
    here, there = step_timing.interleaved(tiny(), {"JAXGAN_TEST_SETTING": "b"}, steps=2, warmup=1)
    assert seen == [None, "b"] and "JAXGAN_TEST_SETTING" not in os.environ
    assert calls == [1, 2, 2, 1, 1, 2]  # each goes first in turn
    assert there["environment"] == {"JAXGAN_TEST_SETTING": "b"} and "environment" not in here
    assert here["batch_size"] == there["batch_size"] == 16


def test_against_settings_are_parsed_or_refused():
    assert step_timing.environment_settings("A=1,B=x=y") == {"A": "1", "B": "x=y"}
    with pytest.raises(UserError, match="give NAME=VALUE pairs"):
        step_timing.environment_settings("A=1,B")


def test_the_inception_benchmark_command_refuses_a_zero_batch_in_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "jaxgan.bench_inception", "--batch-size", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "jaxgan: error: --batch-size and --pairs must be at least 1"
    ]


def test_the_record_names_config_model_only_for_families_that_read_it():
    import jaxgan

    assert step_timing._record(tiny(), [0.5], 1.0)["config_model"] == "dcgan"
    own_nets = jaxgan.load_config("configs/progan.py:fashion")
    assert step_timing._record(own_nets, [0.5], 1.0)["config_model"] is None


def test_a_conditional_config_without_num_classes_is_refused_naming_the_flag():
    """Training takes num_classes from the dataset; the benchmark has none to read."""
    with pytest.raises(UserError, match="needs --config.num_classes=N"):
        step_timing.benchmark(tiny(conditional=True), steps=1, warmup=0)
    result = step_timing.benchmark(tiny(conditional=True, num_classes=10), steps=1, warmup=0)
    assert result["step_ms"] > 0
