"""The S2CRNet network family: shapes, parameter counts, gradients, thumbnails, labels."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from s2crnet import MODEL_CONFIGS, S2CRNet, S2CRNetConfig
from s2crnet.labels import label_index, label_tensor
from s2crnet.model import make_thumbnails, mask_bbox


def _batch(b=2, h=96, w=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    composite = torch.rand(b, 3, h, w, generator=g)
    mask = torch.zeros(b, 1, h, w)
    mask[:, :, 20:70, 30:90] = 1.0
    return composite, mask


def test_parameter_counts_match_the_paper():
    assert S2CRNet(S2CRNetConfig()).num_parameters() == 948_480
    assert S2CRNet(S2CRNetConfig(backbone="vgg16")).num_parameters() == 15_137_856


def test_model_holds_only_used_layers():
    semantic = S2CRNet(S2CRNetConfig())
    names = {n for n, _ in semantic.named_parameters()}
    assert not any("classifier" in n for n in names)
    assert not any(n.startswith("backbone.12.") for n in names)  # the dropped Fire module
    plain = S2CRNet(S2CRNetConfig(semantic=False))
    assert not any("label" in n for n, _ in plain.named_parameters())


@pytest.mark.parametrize("name", sorted(MODEL_CONFIGS))
def test_predict_curves_shapes(name):
    model = S2CRNet.from_name(name, stages=3 if name != "s2crnet-vgg16" else 2).eval()
    composite, mask = _batch()
    with torch.no_grad():
        curves = model.predict_curves(composite, mask, label=["person", 2])
    stages = model.config.stages
    assert curves.shape == (2, stages, 3, model.config.pieces)
    assert torch.isfinite(curves).all()


def test_pieces_and_thumbnail_are_configurable():
    model = S2CRNet(S2CRNetConfig(pieces=16, thumbnail=64, stages=1)).eval()
    composite, mask = _batch(b=1)
    with torch.no_grad():
        assert model.predict_curves(composite, mask).shape == (1, 1, 3, 16)


def test_every_parameter_receives_a_gradient_and_nothing_is_nan():
    torch.manual_seed(0)
    model = S2CRNet(S2CRNetConfig())
    composite, mask = _batch()
    target = composite.flip(1)
    curves = model.predict_curves(composite, mask, label=torch.tensor([0, 4]))
    outputs = model.render_stages(composite, mask, curves)
    loss = sum((mask * (out - target)).abs().sum() / mask.sum() for out in outputs)
    loss.backward()
    assert torch.isfinite(loss)
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_softplus_activation_gives_positive_monotone_curves():
    model = S2CRNet(S2CRNetConfig(activation="softplus", semantic=False)).eval()
    composite, mask = _batch()
    with torch.no_grad():
        curves = model.predict_curves(composite, mask)
    assert (curves > 0).all()


def test_released_activation_is_raw_linear_output():
    model = S2CRNet(S2CRNetConfig(semantic=False, stages=1)).eval()
    with torch.no_grad():
        for p in model.heads[0].parameters():
            p.zero_()
        model.heads[0].fc_b.bias.fill_(-2.0)
        composite, mask = _batch(b=1)
        assert (model.predict_curves(composite, mask) == -2.0).all()


@pytest.mark.parametrize("semantic", [False, True])
def test_hidden_head_starts_as_the_papers_head_and_learns_interactions(semantic):
    torch.manual_seed(0)
    plain = S2CRNet(S2CRNetConfig(semantic=semantic, activation="softplus")).eval()
    hidden = S2CRNet(S2CRNetConfig(semantic=semantic, activation="softplus", head_hidden=16))
    hidden.load_state_dict(plain.state_dict(), strict=False)  # fc_in / fc_h stay as built
    extra = {n for n, _ in hidden.named_parameters()} - {n for n, _ in plain.named_parameters()}
    layers = ("fc_in", "fc_h")
    assert extra == {
        f"heads.{i}.{n}.{k}" for i in (0, 1) for n in layers for k in ("weight", "bias")
    }
    c = plain.config.pieces * 3
    d = 512 + (64 if semantic else 0) + 512  # [F_f (+ E(label)); F_b]
    assert hidden.heads[0].fc_in.weight.shape == (16, d)
    assert hidden.heads[0].fc_h.weight.shape == (c, 16)
    composite, mask = _batch()
    with torch.no_grad():  # fc_h starts at zero: the paper's curves exactly
        torch.testing.assert_close(
            hidden.eval().predict_curves(composite, mask), plain.predict_curves(composite, mask)
        )
    hidden.train()
    curves = hidden.predict_curves(composite, mask)
    loss = sum(
        (out - composite.flip(1)).abs().mean()
        for out in hidden.render_stages(composite, mask, curves)
    )
    loss.backward()  # the zero fc_h gets a gradient, so the extra path trains
    assert hidden.heads[0].fc_h.weight.grad.abs().sum() > 0
    assert torch.isfinite(hidden.heads[0].fc_in.weight.grad).all()


def test_labels_by_name_index_and_default():
    model = S2CRNet(S2CRNetConfig()).eval()
    composite, mask = _batch(b=1)
    with torch.no_grad():
        by_name = model.predict_curves(composite, mask, label="animal")
        by_index = model.predict_curves(composite, mask, label=1)
        by_tensor = model.predict_curves(composite, mask, label=torch.tensor([1]))
        default = model.predict_curves(composite, mask)
        other = model.predict_curves(composite, mask, label="other")
    torch.testing.assert_close(by_name, by_index)
    torch.testing.assert_close(by_name, by_tensor)
    torch.testing.assert_close(default, other)
    assert not torch.allclose(by_name, other)


def test_label_parsing():
    assert [label_index(x) for x in ("person", "ANIMAL", "food", "vehicle", "other")] == list(
        range(5)
    )
    assert label_index("3") == 3 and label_index(None) == 4 and label_index("others") == 4
    for bad in ("dog", 5, -1, True, 2.0):
        with pytest.raises(ValueError):
            label_index(bad)
    assert label_tensor(None, 3).tolist() == [4, 4, 4]
    with pytest.raises(ValueError):
        label_tensor(["person"], 2)
    with pytest.raises(ValueError):
        label_tensor(torch.tensor([7]), 1)


def test_foreground_thumbnail_is_the_masked_bbox_crop_of_the_square():
    composite, mask = _batch(b=1, h=100, w=100)
    mask.zero_()
    mask[:, :, 10:30, 40:90] = 1.0
    fg, bg = make_thumbnails(composite, mask, size=50)

    def resize(x, size=50):
        return F.interpolate(
            x, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )

    square, square_mask = resize(composite), resize(mask)  # 100 -> 50: rows 5-15, cols 20-45
    assert mask_bbox(square_mask[0, 0]) == (5, 15, 20, 45)
    expected = resize(square[:, :, 5:15, 20:45]) * resize(square_mask[:, :, 5:15, 20:45])
    torch.testing.assert_close(fg, expected)
    torch.testing.assert_close(bg, square * (1 - square_mask))


def test_thumbnails_accept_uint8_views():
    composite, mask = _batch(b=1)
    fg, bg = make_thumbnails(composite, mask, 64)
    fg8, bg8 = make_thumbnails((composite * 255).round().byte(), (mask * 255).byte(), 64)
    assert (fg - fg8).abs().max() < 2 / 255 and (bg - bg8).abs().max() < 2 / 255


def test_mask_bbox_fallbacks():
    m = torch.zeros(10, 10)
    assert mask_bbox(m) == (0, 10, 0, 10)  # empty: whole image
    m[2, 3] = 0.2
    assert mask_bbox(m) == (2, 3, 3, 4)  # only faint pixels: use them
    m[5:7, 1:4] = 1.0
    assert mask_bbox(m) == (5, 7, 1, 4)  # solid pixels win over faint ones


def test_make_thumbnails_rejects_bad_shapes():
    composite, mask = _batch(b=1)
    with pytest.raises(ValueError):
        make_thumbnails(composite[:, :2], mask)
    with pytest.raises(ValueError):
        make_thumbnails(composite, mask[..., :-1])


def test_config_validation():
    with pytest.raises(ValueError, match="backbone"):
        S2CRNetConfig(backbone="resnet")
    with pytest.raises(ValueError, match="activation"):
        S2CRNetConfig(activation="relu6")
    with pytest.raises(ValueError):
        S2CRNetConfig(stages=0)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="head_hidden"):
            S2CRNetConfig(head_hidden=bad)
    with pytest.raises(ValueError, match="unknown"):
        S2CRNetConfig.from_dict({"backbone": "vgg16", "colour": 1})
    with pytest.raises(ValueError):
        S2CRNet.from_name("nope")
    config = S2CRNetConfig(backbone="alexnet", pieces=32)
    assert S2CRNetConfig.from_dict(__import__("json").loads(config.to_json())) == config


def test_render_blends_each_stage_through_the_mask():
    composite, mask = _batch(b=1)
    curves = torch.rand(1, 2, 3, 8) + 0.1
    outs = S2CRNet.render_stages(composite, mask, curves)
    assert len(outs) == 2
    outside = mask.expand_as(composite) == 0
    for out in outs:
        assert torch.equal(out[outside], composite[outside])


def test_numpy_thumbnails_agree_with_the_tensor_version():
    from _helpers import make_composite, make_mask
    from s2crnet.thumbnails import thumbnails

    rgb, mask = make_composite(300, 420), make_mask(300, 420)
    fg, bg = thumbnails(rgb, mask, 256)
    composite = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    alpha = torch.from_numpy(mask)[None, None].float() / 255
    fg_t, bg_t = make_thumbnails(composite, alpha, 256)
    assert fg.shape == bg.shape == (1, 3, 256, 256)
    assert np.abs(fg - fg_t.numpy()).mean() < 0.01 and np.abs(bg - bg_t.numpy()).mean() < 0.01


def test_frozen_gives_the_same_curves_and_is_kept_for_the_same_weights(semantic_model):
    composite, mask = _batch()
    fg, bg = make_thumbnails(composite, mask, 64)
    labels = torch.tensor([1, 3])
    model = semantic_model
    with torch.inference_mode():
        eager = model(fg, bg, labels)
        with model.frozen():
            made = model._frozen["copy"]
            assert model._backbone_for(fg) is made is not None  # the fused copy runs
            fast = model(fg, bg, labels)
            other = model(fg[:1], bg[:1], labels[:1])  # another batch size
        assert model._backbone_for(fg) is model.backbone  # outside: the module
        with model.frozen(calls=1):  # too few calls to make one, but it is made already
            assert model._frozen["copy"] is made
    torch.testing.assert_close(fast, eager, rtol=0, atol=1e-5)
    torch.testing.assert_close(other, eager[:1], rtol=0, atol=1e-5)
    assert not any("frozen" in name for name in model.state_dict())
    twin = copy.deepcopy(model)  # as training's EMA copies a model: without the copy
    assert twin._frozen["copy"] is None and model._frozen["copy"] is made
    with torch.inference_mode():
        torch.testing.assert_close(twin(fg, bg, labels), eager, rtol=0, atol=0)


def test_frozen_is_made_only_when_it_pays_and_never_for_changed_weights():
    torch.manual_seed(0)
    model = S2CRNet(S2CRNetConfig(semantic=False)).eval()
    x = torch.rand(1, 3, 64, 64)
    with model.frozen(calls=5):
        assert model._frozen["copy"] is None
    with model.frozen(calls=100):
        assert model._frozen["copy"] is not None
    with torch.no_grad():
        model.backbone[0].weight.mul_(2)  # weights written in place
    with model.frozen(calls=5), torch.inference_mode():
        assert model._backbone_for(x) is model.backbone  # not the stale copy
        doubled = model(x, x)
    with model.frozen(), torch.inference_mode():
        torch.testing.assert_close(model(x, x), doubled, rtol=0, atol=1e-5)


def test_frozen_leaves_gradients_and_training_to_the_module():
    torch.manual_seed(0)
    model = S2CRNet(S2CRNetConfig(semantic=False)).eval()
    fg = torch.rand(1, 3, 64, 64)
    with model.frozen():
        model(fg, fg).sum().backward()  # gradients recorded: the backbone itself runs
    assert all(p.grad is not None for p in model.backbone.parameters())
    model.train()
    with model.frozen(), torch.no_grad():
        assert model._backbone_for(fg) is model.backbone
