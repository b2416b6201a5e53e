"""Weights: our safetensors format, the authors' released checkpoint, torchvision backbones."""

from __future__ import annotations

import pickle

import pytest
import torch
import torch.nn.functional as F

from _helpers import shared_path
from s2crnet import S2CRNet, S2CRNetConfig, WeightsError, load_model
from s2crnet.model import make_thumbnails
from s2crnet.weights import convert_released_state_dict, load_backbone_weights

# torchvision squeezenet1_1 Fire modules kept by the released model: index -> (in, squeeze, expand)
FIRES = {
    3: (64, 16, 64),
    4: (128, 16, 64),
    6: (128, 32, 128),
    7: (256, 32, 128),
    9: (256, 48, 192),
    10: (384, 48, 192),
    11: (384, 64, 256),
}
HEADS = {
    "fc_f_1.fc1": (192, 512),
    "fc_b_1.fc1": (192, 512),
    "fc_label_1": (32, 5),
    "fc_label_2": (64, 32),
    "fc_f_label": (192, 576),
}


def released_state_dict(seed: int = 0, prefix: str = "") -> dict[str, torch.Tensor]:
    """A state dict with exactly the released key names and shapes (64 tensors)."""
    g = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.randn(*shape, generator=g) * 0.1

    sd = {"squeezenet1_1.0.weight": rand(64, 3, 3, 3), "squeezenet1_1.0.bias": rand(64)}
    for i, (cin, sq, ex) in FIRES.items():
        for name, shape in (
            ("squeeze", (sq, cin, 1, 1)),
            ("expand1x1", (ex, sq, 1, 1)),
            ("expand3x3", (ex, sq, 3, 3)),
        ):
            sd[f"squeezenet1_1.{i}.{name}.weight"] = rand(*shape)
            sd[f"squeezenet1_1.{i}.{name}.bias"] = rand(shape[0])
    for stage in (1, 2):
        for name, (out, cin) in HEADS.items():
            sd[f"fusion.cr{stage}.{name}.weight"] = rand(out, cin)
            sd[f"fusion.cr{stage}.{name}.bias"] = rand(out)
    assert len(sd) == 64
    return {prefix + k: v for k, v in sd.items()}


def reference_curves(sd, foreground, background, label):
    """The released forward written out with functional ops, straight from the state dict."""

    def conv(x, key, **kw):
        return F.relu(F.conv2d(x, sd[key + ".weight"], sd[key + ".bias"], **kw))

    x = torch.cat([foreground, background])
    x = conv(x, "squeezenet1_1.0", stride=2)
    for i in ("pool", 3, 4, "pool", 6, 7, "pool", 9, 10, 11):
        if i == "pool":
            x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        else:
            s = conv(x, f"squeezenet1_1.{i}.squeeze")
            x = torch.cat(
                [
                    conv(s, f"squeezenet1_1.{i}.expand1x1"),
                    conv(s, f"squeezenet1_1.{i}.expand3x3", padding=1),
                ],
                1,
            )
    pooled = x.mean((2, 3))
    f_fore, f_back = pooled[: len(foreground)], pooled[len(foreground) :]
    one_hot = F.one_hot(label, 5).float()
    stages = []
    for n in (1, 2):
        p = f"fusion.cr{n}."
        emb = F.linear(
            F.relu(F.linear(one_hot, sd[p + "fc_label_1.weight"], sd[p + "fc_label_1.bias"])),
            sd[p + "fc_label_2.weight"],
            sd[p + "fc_label_2.bias"],
        )
        out = F.linear(f_back, sd[p + "fc_b_1.fc1.weight"], sd[p + "fc_b_1.fc1.bias"]) + F.linear(
            torch.cat([f_fore, emb], 1), sd[p + "fc_f_label.weight"], sd[p + "fc_f_label.bias"]
        )
        stages.append(out.view(-1, 3, 64))
    return torch.stack(stages, 1)


@pytest.mark.parametrize("prefix", ["", "module."])
def test_released_checkpoint_loads_and_matches_independent_forward(tmp_path, prefix):
    sd = released_state_dict(prefix=prefix)
    path = tmp_path / "S2CRNet_pretrained.pth"
    torch.save({"state_dict": sd, "epoch": 20}, path)
    model = load_model(path)
    assert model.config == S2CRNetConfig()  # semantic SqueezeNet, 2 stages, L 64, raw
    g = torch.Generator().manual_seed(5)
    composite = torch.rand(2, 3, 200, 300, generator=g)
    mask = torch.zeros(2, 1, 200, 300)
    mask[0, :, 50:150, 20:200] = 1
    mask[1, :, 0:80, 100:300] = 1
    label = torch.tensor([0, 3])
    fg, bg = make_thumbnails(composite, mask, 256)
    plain = {k.removeprefix("module."): v for k, v in sd.items()}
    with torch.no_grad():
        expected = reference_curves(plain, fg, bg, label)
        got = model.predict_curves(composite, mask, label)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_conversion_drops_exactly_the_unused_heads():
    config, state = convert_released_state_dict(released_state_dict())
    assert config.semantic and config.stages == 2 and config.pieces == 64
    assert len(state) == 60  # 64 minus fc_f_1.fc1.{weight,bias} in two stages
    assert not any("fc_f_1" in k for k in state)
    config, state = convert_released_state_dict(released_state_dict(), semantic=False)
    assert not config.semantic and len(state) == 52  # the label layers dropped instead


def test_missing_unexpected_and_misshapen_keys_are_named(tmp_path):
    sd = released_state_dict()
    del sd["fusion.cr2.fc_b_1.fc1.bias"]
    sd["fusion.cr1.extra.weight"] = torch.zeros(1)
    sd["squeezenet1_1.3.squeeze.weight"] = torch.zeros(16, 64, 3, 3)
    path = tmp_path / "broken.pth"
    torch.save({"state_dict": sd}, path)
    with pytest.raises(WeightsError) as info:
        load_model(path)
    message = str(info.value)
    assert "heads.1.fc_b.bias" in message  # missing
    assert "fusion.cr1.extra.weight" in message  # unexpected
    assert "backbone.3.squeeze.weight (16, 64, 3, 3)" in message  # wrong shape


def test_vgg_released_keys_are_recognised():
    model = S2CRNet(S2CRNetConfig(backbone="vgg16", stages=1))
    names = {
        "fc_b": "fc_b_1.fc1",
        "fc_f": "fc_f_label",
        "label_mlp.0": "fc_label_1",
        "label_mlp.2": "fc_label_2",
    }
    released = {}
    for key, value in model.state_dict().items():
        if key.startswith("backbone."):
            released["model." + key.removeprefix("backbone.")] = value
        else:
            _, _, rest = key.split(".", 2)
            layer, kind = rest.rsplit(".", 1)
            released[f"fusion.cr1.{names[layer]}.{kind}"] = value
    config, state = convert_released_state_dict(released)
    assert config.backbone == "vgg16" and config.stages == 1
    S2CRNet(config).load_state_dict(state, strict=True)


def test_our_format_round_trip(tmp_path):
    torch.manual_seed(0)
    model = S2CRNet(
        S2CRNetConfig(
            backbone="alexnet",
            semantic=False,
            stages=1,
            pieces=32,
            activation="softplus",
            normalize=True,
            head_hidden=8,
        )
    ).eval()
    torch.nn.init.normal_(model.heads[0].fc_h.weight)  # not the zero it starts at
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = S2CRNet.from_pretrained(path)
    assert loaded.config == model.config
    fg, bg = torch.rand(2, 1, 3, 64, 64).unbind(0)
    with torch.no_grad():
        torch.testing.assert_close(loaded(fg, bg), model(fg, bg))
    assert not list(tmp_path.glob(".*tmp"))  # the atomic save left no temporary file


def test_safetensors_without_our_config_is_rejected(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "backbone.safetensors"
    save_file({"features.0.weight": torch.zeros(64, 3, 11, 11)}, str(path))
    with pytest.raises(WeightsError, match="backbone-only"):
        load_model(path)
    save_file({"something": torch.zeros(1)}, str(path))
    with pytest.raises(WeightsError, match="not an S2CRNet"):
        load_model(path)


def test_not_a_weights_file_and_missing_file(tmp_path):
    bogus = tmp_path / "x.pth"
    bogus.write_bytes(b"hello, not weights")
    with pytest.raises(WeightsError, match=str(bogus)):
        load_model(bogus)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.safetensors")


class _Evil:
    def __reduce__(self):
        return (print, ("pickle code ran",))


def test_pickles_are_loaded_weights_only(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"state_dict": _Evil()}, f, protocol=2)
    with pytest.raises(WeightsError):
        load_model(path)
    assert "pickle code ran" not in capsys.readouterr().out


def test_torchvision_backbone_weights_load_into_the_backbone():
    from torchvision.models import squeezenet1_1

    reference = squeezenet1_1(weights=None).state_dict()  # includes classifier + Fire 12
    model = S2CRNet(S2CRNetConfig())
    load_backbone_weights(model, reference)
    torch.testing.assert_close(
        model.backbone[11].expand3x3.weight, reference["features.11.expand3x3.weight"]
    )
    with pytest.raises(WeightsError, match="features"):
        load_backbone_weights(model, {"conv.weight": torch.zeros(1)})
    with pytest.raises(WeightsError, match="wrong shapes"):
        load_backbone_weights(S2CRNet(S2CRNetConfig(backbone="alexnet")), reference)


def test_shared_imagenet_alexnet_weights_load():
    path = shared_path("weights", "alexnet-features-imagenet.safetensors")
    model = S2CRNet.from_name("s2crnet-alexnet")
    load_backbone_weights(model, path)
    from safetensors.torch import load_file

    torch.testing.assert_close(
        model.backbone[10].weight, load_file(str(path))["features.10.weight"]
    )


def test_safetensors_whose_header_length_looks_like_a_pickle(tmp_path):
    """A safetensors file starts with its header length; 0x80 there is not a pickle."""
    from safetensors.torch import save_file

    model = S2CRNet(S2CRNetConfig(stages=1, pieces=8, semantic=False))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    path = tmp_path / "m.safetensors"
    for pad in range(512):
        metadata = {"format": "s2crnet", "config": model.config.to_json(), "pad": "x" * pad}
        save_file(state, str(path), metadata=metadata)
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    assert load_model(path).config == model.config
