"""`python -m jaxgan.bench`'s measurement (jaxgan.step_timing) on a tiny config; the
timings themselves are not asserted."""

import pytest

from jaxgan import step_timing
from tests.conftest import tiny


@pytest.mark.parametrize("steps_per_dispatch", [1, 2])
def test_benchmark_reports_per_step_numbers(steps_per_dispatch):
    result = step_timing.benchmark(tiny(steps_per_dispatch=steps_per_dispatch), steps=2, warmup=1)
    assert result["steps_per_dispatch"] == steps_per_dispatch
    assert result["batch_size"] == 16 and result["backend"] == "cpu"
    # img_per_s is batch / step time, where a call of K steps counts as K steps.
    assert result["img_per_s"] == pytest.approx(16 / (result["step_ms"] / 1e3), rel=0.01)


def test_benchmark_of_a_2d_point_config():
    config = tiny(model="mlp", dataset="ring8", data_dim=2, g_width=16, d_width=16)
    result = step_timing.benchmark(config, steps=2, warmup=1)
    assert result["config_model"] == "mlp" and result["image_size"] is None
    assert result["step_ms"] > 0
