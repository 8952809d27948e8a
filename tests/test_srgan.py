"""The srgan family (jaxgan/families/srgan.py): the input pipeline's crops and bicubic
low-resolution inputs, the two stages (SRResNet's MSE alone; SRGAN's D and G), a tiny
run through the loop, jaxgan.upscale end to end, and the evaluation record's PSNR/SSIM."""

import jax
import numpy as np
import pytest
from PIL import Image

import jaxgan
from jaxgan.data import datasets
from jaxgan.families import srgan
from jaxgan.metrics import super_resolution as sr
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import restore
from jaxgan.sampling import translation as translate
from jaxgan.training import checkpoints
from jaxgan.training import loop as train
from jaxgan.training.state import create_train_state


def tiny(tmp_path, **overrides):
    pixels = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "data.npz", images=pixels)
    config = jaxgan.base_config()
    config.family, config.dataset = "srgan", f"npz:{tmp_path / 'data.npz'}"
    config.image_size, config.num_channels, config.batch_size = 16, 1, 4
    config.translation_load_size = 28
    config.g_width = config.d_width = 4
    config.srgan_blocks, config.srgan_scale = 1, 4
    config.num_train_steps, config.checkpoint_every_steps, config.log_every_steps = 2, 2, 2
    for name, value in overrides.items():
        config[name] = value
    return config


def test_batches_are_random_crops_and_their_bicubic_downscalings(tmp_path):
    config = tiny(tmp_path)
    dataset = datasets.load(srgan.data_config(config))
    batch = next(srgan.real_batches(dataset, config, 0))
    assert batch["image"].shape == (1, 4, 16, 16, 1) and batch["low"].shape == (1, 4, 4, 4, 1)
    high = np.rint((batch["image"][0] + 1) * 127.5).astype(np.uint8)
    expected = srgan.downscale(high, 4)
    np.testing.assert_allclose(batch["low"][0], expected / 127.5 - 1, atol=1e-6)
    again = next(srgan.real_batches(dataset, config, 0))
    np.testing.assert_array_equal(again["image"], batch["image"])  # resumable: same batch


@pytest.mark.parametrize("stage, trained", [("mse", {"g"}), ("gan", {"g", "d"})])
def test_each_stage_updates_its_nets(tmp_path, stage, trained):
    config = tiny(tmp_path, srgan_stage=stage)
    train.train_and_evaluate(config, tmp_path / "run")
    mngr = checkpoints.manager(tmp_path / "run", config)
    try:
        initial = jax.device_get(create_train_state(config))
        state, _ = checkpoints.restore(mngr, create_train_state(config))
    finally:
        mngr.close()
    state = jax.device_get(state)
    for name in ("g", "d"):
        same = jax.tree.map(np.array_equal, initial.nets[name].params, state.nets[name].params)
        assert all(jax.tree.leaves(same)) == (name not in trained), name
    assert (tmp_path / "run" / "samples" / "step_2.png").is_file()


def test_upscale_makes_images_scale_times_larger_and_the_record_scores_bicubic(tmp_path):
    config = tiny(tmp_path, image_size=24)
    train.train_and_evaluate(config, tmp_path / "run")
    image = np.random.default_rng(1).integers(0, 256, (9, 13), np.uint8)
    (tmp_path / "in").mkdir()
    Image.fromarray(image).save(tmp_path / "in" / "x.png")
    written = translate.run(
        tmp_path / "run", tmp_path / "in", tmp_path / "out", tile=8, overlap=2, command="upscale"
    )
    assert Image.open(written[0]).size == (13 * 4, 9 * 4)
    with pytest.raises(UserError, match="apply it with python -m jaxgan.upscale"):
        translate.run(tmp_path / "run", tmp_path / "in", tmp_path / "out2")
    record = sr.record(restore.restore(tmp_path / "run"), num_images=6)
    high = datasets.load(config).images[:6]
    high = np.stack(
        [np.asarray(Image.fromarray(x[..., 0]).resize((24, 24), Image.BICUBIC)) for x in high]
    )[..., None]
    bicubic = srgan.upscale_bicubic(srgan.downscale(high, 4), 4)
    expected = np.mean([sr.psnr(x, y, 4) for x, y in zip(bicubic, high, strict=True)])
    assert record["psnr_bicubic"] == pytest.approx(expected)
    assert record["num_images"] == 6 and 0 < record["ssim_bicubic"] < 1


def test_settings_the_srgan_family_cannot_train_are_refused(tmp_path):
    from jaxgan.config.validation import check_family

    with pytest.raises(UserError, match="multiple of config.srgan_scale=4"):
        check_family(tiny(tmp_path, image_size=18))
    with pytest.raises(UserError, match="srgan_stage must be one of"):
        check_family(tiny(tmp_path, srgan_stage="vgg"))
    with pytest.raises(UserError, match=r"srgan_content must be one of \('mse', 'vgg', "):
        check_family(tiny(tmp_path, srgan_content="l1"))
