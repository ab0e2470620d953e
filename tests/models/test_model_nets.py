"""Network shapes for every family, size and channel count; condition vectors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentplay.errors import UserError
from latentplay.models import ConditionPart, ConditionSpec, build_model, family_config
from latentplay.models.losses import kl_per_dim
from latentplay.models.nets import downsampling_plan


@pytest.mark.parametrize("family", ["ae", "vae", "cvae", "dcgan"])
@pytest.mark.parametrize("size", [28, 32, 64, 128])
@torch.no_grad()
def test_shapes(family: str, size: int) -> None:
    for channels in (1, 3):
        cfg = family_config(family)()
        if family == "dcgan":  # small filters: the layer plan is what is checked
            cfg.ngf = cfg.ndf = 8
        model = build_model(family, cfg, channels, size, cond_dim=3)
        z = torch.randn(2, model.latent_dim)
        cond = torch.randn(2, 3)
        images = model.decode(z, cond)
        assert images.shape == (2, channels, size, size)
        assert float(images.min()) >= 0 and float(images.max()) <= 1
        if family == "dcgan":
            assert model.discriminator(images * 2 - 1, cond).shape == (2,)
            with pytest.raises(UserError):
                model.encode(images, cond)
        else:
            mu, logvar = model.encode(images, cond)
            assert mu.shape == (2, model.latent_dim)
            assert (logvar is None) == (family == "ae")


@torch.no_grad()
def test_vae_samples_z_by_the_reparameterisation() -> None:
    """Kingma & Welling: ``z = mu + eps * exp(logvar / 2)``, ``eps ~ N(0, I)`` drawn in the
    forward pass; the AE's code is its mean."""
    vae = build_model("vae", family_config("vae")(), 1, 28)
    x = torch.rand(4, 1, 28, 28)
    torch.manual_seed(0)
    out = vae(x)
    torch.manual_seed(0)
    eps = torch.randn_like(out.mu)
    torch.testing.assert_close(out.z, out.mu + eps * torch.exp(out.logvar / 2))
    assert not torch.equal(out.z, out.mu)
    ae = build_model("ae", family_config("ae")(), 1, 28)(x)
    assert torch.equal(ae.z, ae.mu)


@pytest.mark.parametrize("family", ["ae", "vae"])
@torch.no_grad()
def test_under_bf16_autocast_the_losses_read_float32(family: str) -> None:
    """The networks run in bf16 under autocast; what the losses read is float32. A new VAE's
    posterior is near the prior (KL about 1e-3 a dimension): computed in bf16, ``exp(logvar)
    - logvar - 1`` cancelled to negative KLs."""
    model = build_model(family, family_config(family)(), 1, 32)
    torch.manual_seed(0)
    x = torch.rand(16, 1, 32, 32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
        kl = None if out.logvar is None else kl_per_dim(out.mu, out.logvar)
        recon = model.decode_logits(out.z)
    assert recon.dtype == torch.bfloat16             # the network itself ran in bf16
    tensors = [out.mu, out.z, out.logits, out.recon] + ([] if out.logvar is None else [out.logvar])
    assert all(t.dtype == torch.float32 for t in tensors)
    if kl is not None:
        assert kl.dtype == torch.float32 and (kl >= 0).all()


def test_burgess_reference_network_at_64() -> None:
    model = build_model("vae", family_config("vae")(), 1, 64)
    convs = [m for m in model.encoder.conv if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [(32, (4, 4), (2, 2))] * 4
    # ReLU after every layer but the last, in both networks (Burgess et al.'s)
    relu, linear, deconv = torch.nn.ReLU, torch.nn.Linear, torch.nn.ConvTranspose2d
    assert [type(m) for m in model.encoder.fc] == [linear, relu, linear, relu, linear]
    assert [type(m) for m in model.encoder.conv][:-1] == [torch.nn.Conv2d, relu] * 4
    assert [type(m) for m in model.decoder.fc] == [linear, relu] * 3
    assert [type(m) for m in model.decoder.deconv] == [deconv, relu] * 3 + [deconv]
    assert downsampling_plan(64) == (4, 4) and downsampling_plan(28) == (2, 7)
    with pytest.raises(UserError):
        downsampling_plan(50)


def test_condition_spec_vectors() -> None:
    spec = ConditionSpec([ConditionPart("smile", "continuous", 1, range=(-1.0, 1.0)),
                          ConditionPart("gender", "categorical", 2, names=["female", "male"])])
    assert spec.dim == 3
    assert np.array_equal(spec.vector({"smile": 0.5, "gender": "male"}), [0.5, 0.0, 1.0])
    assert np.array_equal(spec.vector({"smile": -1, "gender": 0}), [-1.0, 1.0, 0.0])
    assert ConditionSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(UserError):
        spec.vector({"smile": 0.0, "gender": "other"})
    with pytest.raises(UserError):
        spec.vector({"smile": 0.0})
    # an ordered condition stays ordered through model.json; one written before the flag loads
    tones = ConditionSpec([ConditionPart("tone", "categorical", 3, names=["a", "b", "c"],
                                         ordered=True)])
    assert ConditionSpec.from_dict(tones.to_dict()).parts[0].ordered
    old = tones.to_dict()
    del old["parts"][0]["ordered"]
    assert not ConditionSpec.from_dict(old).parts[0].ordered


@pytest.mark.parametrize("code", [1.5, -0.5, float("nan"), float("inf"), None])
def test_condition_class_code_that_is_no_whole_number_is_a_user_error(code: float | None) -> None:
    # int() truncated 1.5 to class 1 and -0.5 to class 0 silently (--condition gender=0.5)
    spec = ConditionSpec([ConditionPart("gender", "categorical", 2, names=["female", "male"])])
    with pytest.raises(UserError, match="gender"):
        spec.vector({"gender": code})  # type: ignore[dict-item]
    assert np.array_equal(spec.vector({"gender": 1.0}), [0.0, 1.0])


def test_condition_continuous_value_none_is_a_user_error() -> None:
    spec = ConditionSpec([ConditionPart("smile", "continuous", 1, range=(-1.0, 1.0))])
    with pytest.raises(UserError, match="smile"):
        spec.vector({"smile": None})  # type: ignore[dict-item]


def test_condition_of_another_kind_in_the_store_is_a_user_error() -> None:
    """A continuous condition read from a store where the attribute has classes took the class
    codes as its values; a categorical one read from a continuous attribute blamed missing rows."""
    from types import SimpleNamespace

    from latentplay.store.schema import Attribute

    def store(attr: Attribute, values: list[float]) -> SimpleNamespace:
        return SimpleNamespace(labels=lambda _: np.array(values),
                               schema=SimpleNamespace(attribute=lambda _: attr))

    smile = ConditionSpec([ConditionPart("smile", "continuous", 1, range=(-1.0, 1.0))])
    labelled = store(Attribute("smile", "categorical", names=["no", "yes"]), [0, 1, 1])
    with pytest.raises(UserError, match="'smile' is continuous in the model but categorical"):
        smile.encode_store(labelled)
    measured = store(Attribute("smile", "continuous"), [0.25, -0.5, 1.0])
    assert np.array_equal(smile.encode_store(measured), [[0.25], [-0.5], [1.0]])
    gender = ConditionSpec([ConditionPart("smile", "categorical", 2, names=["no", "yes"])])
    with pytest.raises(UserError, match="has classes in the model but is continuous"):
        gender.encode_store(measured)
    assert np.array_equal(gender.encode_store(labelled), [[1, 0], [0, 1], [0, 1]])


@torch.no_grad()
def test_output_bias_starts_decoding_at_the_data_mean() -> None:
    """A decoder whose last layer is zeroed outputs exactly the per-channel mean it was given."""
    model = build_model("vae", family_config("vae")(), 3, 32)
    mean = torch.tensor([0.03, 0.5, 0.9])
    model.init_output_bias(mean)
    model.decoder.deconv[-1].weight.zero_()
    images = model.decode(torch.randn(2, model.latent_dim))
    assert torch.allclose(images.mean((0, 2, 3)), mean, atol=1e-6)
    # a channel always off or always on (black background) starts at 0.001 or 0.999, not at an
    # infinite logit that no gradient step moves
    model.init_output_bias(torch.tensor([0.0, 1.0, 0.5]))
    assert torch.allclose(model.decoder.deconv[-1].bias, torch.tensor([-6.9068, 6.9068, 0.0]), atol=1e-4)


def test_started_at_the_data_mean_a_vae_soon_beats_the_mean_image() -> None:
    """The reason for :meth:`AE.init_output_bias`: on sparse sprites (3% of the pixels on) a
    small VAE that starts at the data mean gets well below the loss of the best constant image
    within 200 Adam steps (57 nats against the constant's 114; without the init the same run
    is still at 115)."""
    import torch.nn.functional as F

    from latentplay.models.losses import kl_per_dim
    from latentplay.sources.shapes import ShapesGroundTruth

    torch.manual_seed(0)
    truth, rng = ShapesGroundTruth(), np.random.default_rng(0)
    images = truth.sample_observations_from_factors(truth.sample_factors(512, rng), rng)
    x_all = F.avg_pool2d(torch.from_numpy(images).permute(0, 3, 1, 2), 2)  # (512, 1, 32, 32)
    mean_image = x_all.mean(0, keepdim=True).clamp(1e-4, 1 - 1e-4)
    constant_nll = float(F.binary_cross_entropy(mean_image.expand_as(x_all), x_all,
                                                reduction="sum")) / len(x_all)
    cfg = family_config("vae")(latent_dim=4, width=16, hidden=64)
    model = build_model("vae", cfg, 1, 32)
    model.init_output_bias(x_all.mean((0, 2, 3)))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(200):
        x = x_all[torch.from_numpy(rng.integers(0, len(x_all), 16))]
        out = model(x)
        loss = out.recon.mean() + kl_per_dim(out.mu, out.logvar).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        mu, _ = model.encode(x_all)
        nll = float(F.binary_cross_entropy(model.decode(mu), x_all, reduction="sum")) / len(x_all)
    assert nll < 0.7 * constant_nll, (nll, constant_nll)


@pytest.mark.parametrize("size", [32, 64])
@torch.no_grad()
def test_condition_reaches_every_decoder_layer_with_condition_layers_all(size: int) -> None:
    """With ``condition_layers=all`` every transposed convolution reads the condition as extra
    constant maps: even with the first layer's condition weights at zero, the decoded image
    still depends on the condition; with ``input`` it then does not."""
    torch.manual_seed(0)
    z = torch.randn(3, 6)
    low, high = torch.tensor([[-1.0, 0.0]]).expand(3, -1), torch.tensor([[1.0, 1.0]]).expand(3, -1)
    for layers, depends in (("all", True), ("input", False)):
        cfg = family_config("cvae")(latent_dim=6, width=8, hidden=32, condition=["c"],
                                    condition_layers=layers)
        model = build_model("cvae", cfg, 3, size, cond_dim=2)
        deconvs = [m for m in model.decoder.deconv if isinstance(m, torch.nn.ConvTranspose2d)]
        assert [m.in_channels for m in deconvs] == [8 + (2 if depends else 0)] * len(deconvs)
        model.decoder.fc[0].weight[:, 6:] = 0  # cut the input path of the condition
        diff = (model.decode(z, high) - model.decode(z, low)).abs().max().item()
        assert (diff > 1e-4) == depends
        mu, _ = model.encode(model.decode(z, low), low)
        assert mu.shape == (3, 6)
    with pytest.raises(UserError, match="condition_layers"):
        family_config("cvae")(condition=["c"], condition_layers="middle").validate()


@pytest.mark.parametrize("family", ["cvae", "vae"])
@torch.no_grad()
def test_a_conditional_network_without_its_condition_says_so(family: str) -> None:
    """A conditional encoder/decoder called with no condition, or one of the wrong shape, raises
    one clear UserError (it used to be an AttributeError on ``None.to``)."""
    cfg = family_config(family)()
    if family == "cvae":
        cfg.condition, cfg.condition_layers = ["smile"], "all"
    model = build_model(family, cfg, 1, 28, cond_dim=2)
    x, z = torch.rand(3, 1, 28, 28), torch.randn(3, model.latent_dim)
    with pytest.raises(UserError, match=r"conditional: pass a condition of shape \(N, 2\), got none"):
        model.encode(x)
    with pytest.raises(UserError, match=r"conditional: pass a condition of shape \(N, 2\), got none"):
        model.decode(z)
    with pytest.raises(UserError, match=r"must have shape \(3, 2\) for 3 inputs, got \(3, 5\)"):
        model.decode(z, torch.zeros(3, 5))
    with pytest.raises(UserError, match=r"must have shape \(3, 2\) for 3 inputs, got \(2, 2\)"):
        model.encode(x, torch.zeros(2, 2))
    assert model.decode(z, torch.zeros(3, 2)).shape == (3, 1, 28, 28)


@torch.no_grad()
def test_a_conditional_dcgan_without_its_condition_says_so() -> None:
    model = build_model("dcgan", family_config("dcgan")(), 1, 32, cond_dim=2)
    z, x = torch.randn(3, model.latent_dim), torch.rand(3, 1, 32, 32) * 2 - 1
    with pytest.raises(UserError, match=r"conditional: pass a condition of shape \(N, 2\), got none"):
        model.decode(z)
    with pytest.raises(UserError, match=r"must have shape \(3, 2\) for 3 inputs, got \(3, 4\)"):
        model.discriminator(x, torch.zeros(3, 4))
    assert model.decode(z, torch.zeros(3, 2)).shape == (3, 1, 32, 32)
    assert model.discriminator(x, torch.zeros(3, 2)).shape == (3,)
    # both networks read the condition: the discriminator as constant maps beside the pixels
    model.eval()
    one, other = torch.tensor([[1.0, 0.0]] * 3), torch.tensor([[0.0, 1.0]] * 3)
    with torch.no_grad():
        assert not torch.allclose(model.discriminator(x, one), model.discriminator(x, other))
        assert not torch.allclose(model.decode(z, one), model.decode(z, other))


@pytest.mark.parametrize("family", ["ae", "vae", "cvae"])
@pytest.mark.parametrize("field", ["width", "hidden"])
def test_network_width_below_one_is_a_user_error(family: str, field: str) -> None:
    """``model.hidden=0`` built an autoencoder whose decoder ignores ``z`` (every image decoded
    to the same picture, silently); ``model.width=0`` failed in PyTorch with a traceback."""
    cfg = family_config(family)(**{field: 0})
    if family == "cvae":
        cfg.condition = ["smile"]
    with pytest.raises(UserError, match="model.width and model.hidden must be at least 1"):
        cfg.validate()


@pytest.mark.parametrize("field", ["width", "hidden"])
def test_concept_model_width_below_one_is_a_user_error(field: str) -> None:
    from latentplay.models.cbm import CBMConfig
    from latentplay.models.glancenet import GlanceNetConfig

    with pytest.raises(UserError, match="at least 1"):
        CBMConfig(**{field: 0}).validate()
    with pytest.raises(UserError, match="at least 1"):
        GlanceNetConfig(**{field: 0}).validate()


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
@pytest.mark.parametrize("field", ["concept_weight", "label_weight"])
def test_concept_model_weights_must_be_finite(field: str, value: float) -> None:
    """A NaN or infinite weight passed ``x < 0`` and made the loss NaN at the first step."""
    from latentplay.models.cbm import CBMConfig
    from latentplay.models.glancenet import GlanceNetConfig

    with pytest.raises(UserError, match=f"{field} must be a finite number >= 0, got {value}"):
        CBMConfig(**{field: value}).validate()
    with pytest.raises(UserError, match=f"{field} must be a finite number >= 0, got {value}"):
        GlanceNetConfig(**{field: value}).validate()


def test_a_condition_listed_twice_is_a_user_error() -> None:
    """``model.condition=[smile,smile]`` made two smile columns; forcing or editing the smile
    then changed only the first one, the model still reading the true value in the second."""
    from types import SimpleNamespace

    from latentplay.store.schema import Attribute

    smile = Attribute("smile", "continuous", range=(-1.0, 1.0))
    store = SimpleNamespace(labels=lambda _: np.array([0.5, -0.5]),
                            schema=SimpleNamespace(attribute=lambda _: smile))
    assert ConditionSpec.from_store(store, ["smile"]).dim == 1
    with pytest.raises(UserError, match="'smile'.*more than once"):
        ConditionSpec.from_store(store, ["smile", "smile"])


def test_gaussian_reconstruction_is_the_nll_of_variance_one_half_less_its_constant() -> None:
    """What the ``gaussian`` likelihood's docstring states: summed squared error of the
    sigmoid outputs = Gaussian NLL with variance 1/2 per pixel minus ``P log(pi) / 2``."""
    from latentplay.models.vae import reconstruction_nll

    logits, x = torch.randn(4, 3, 8, 8), torch.rand(4, 3, 8, 8)
    normal = torch.distributions.Normal(torch.sigmoid(logits), 0.5**0.5)
    nll = -normal.log_prob(x).flatten(1).sum(1)
    constant = 3 * 8 * 8 * np.log(np.pi) / 2
    assert torch.allclose(reconstruction_nll(logits, x, "gaussian"), nll - constant, atol=1e-3)
    bce = torch.nn.functional.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none")
    assert torch.allclose(reconstruction_nll(logits, x, "bernoulli"), bce.flatten(1).sum(1), atol=1e-3)


@pytest.mark.parametrize("size", [28, 64])
@torch.no_grad()
def test_dcgan_follows_radford_et_al(size: int) -> None:
    """No batch norm on the generator's output or the discriminator's input layer, LeakyReLU
    0.2, a tanh output, conv weights N(0, 0.02) and batch-norm scales N(1, 0.02)."""
    from torch import nn

    torch.manual_seed(0)
    model = build_model("dcgan", family_config("dcgan")(), 3, size)
    g, d = list(model.generator.net), list(model.discriminator.net)
    assert isinstance(g[-1], nn.Tanh) and isinstance(g[-2], nn.ConvTranspose2d)
    assert isinstance(d[0], nn.Conv2d) and isinstance(d[1], nn.LeakyReLU)
    assert all(m.negative_slope == 0.2 for m in d if isinstance(m, nn.LeakyReLU))
    convs = torch.cat([m.weight.flatten() for m in model.modules()
                       if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
    norms = torch.cat([m.weight for m in model.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(float(convs.mean())) < 1e-3 and abs(float(convs.std()) - 0.02) < 1e-3
    assert abs(float(norms.mean()) - 1) < 5e-3 and abs(float(norms.std()) - 0.02) < 5e-3
