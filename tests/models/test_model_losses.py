"""Each loss term against a hand computation on a tiny batch."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from latentplay.errors import UserError
from latentplay.models.losses import (
    BetaTCVAE,
    BetaTCVAEConfig,
    BetaVAE,
    BetaVAEConfig,
    DIPVAEIConfig,
    DIPVAEIIConfig,
    FactorVAE,
    FactorVAEConfig,
    InfoVAEConfig,
    LossConfig,
    build_losses,
    capacity,
    dip_covariance,
    dip_penalties,
    kl_per_dim,
    mmd,
    permute_dims,
    tc_decomposition,
)
from latentplay.models.losses.dipvae import DIPVAEI, DIPVAEII
from latentplay.models.losses.infovae import InfoVAE
from latentplay.models.vae import VAEOutput

MU = torch.tensor([[0.5, -1.0], [1.5, 0.0], [-0.5, 2.0]])
LOGVAR = torch.tensor([[0.0, -1.0], [0.5, 0.2], [-0.3, 0.0]])
Z = torch.tensor([[0.3, -0.8], [1.2, 0.4], [-0.1, 1.5]])


def _out(z: torch.Tensor = Z, mu: torch.Tensor = MU, logvar: torch.Tensor = LOGVAR) -> VAEOutput:
    x = torch.zeros(len(z), 1, 4, 4)
    return VAEOutput(x=x, logits=x, mu=mu, logvar=logvar, z=z, recon=torch.zeros(len(z)))


def _kl_by_hand() -> np.ndarray:
    out = np.zeros(2)
    for m, lv in zip(MU.numpy(), LOGVAR.numpy(), strict=True):
        out += 0.5 * (m**2 + np.exp(lv) - lv - 1)
    return out / 3


def test_kl_per_dim_matches_closed_form() -> None:
    assert np.allclose(kl_per_dim(MU, LOGVAR).numpy(), _kl_by_hand(), atol=1e-6)


def test_betavae_beta_and_burgess_capacity() -> None:
    kl = _kl_by_hand().sum()
    assert BetaVAE(BetaVAEConfig(beta=4))(_out(), 0)["kl"].item() == pytest.approx(4 * kl, 1e-5)
    cfg = BetaVAEConfig(capacity_max=20.0, capacity_steps=100, gamma=1000.0)
    assert capacity(50, 20.0, 100) == 10.0 and capacity(500, 20.0, 100) == 20.0
    at_50 = BetaVAE(cfg)(_out(), 50)["kl"].item()
    assert at_50 == pytest.approx(1000 * abs(kl - 10.0), rel=1e-5)
    warm = BetaVAE(BetaVAEConfig(beta=4, warmup_steps=200))
    assert warm(_out(), 0)["kl"].item() == 0.0
    assert warm(_out(), 50)["kl"].item() == pytest.approx(kl, 1e-5)  # 4 * 50/200
    assert warm(_out(), 900)["kl"].item() == pytest.approx(4 * kl, 1e-5)
    # the warm-up scales the capacity objective too: 50/200 of 1000 * |KL - C(50)|, C(50) = 10
    warm_capacity = BetaVAE(BetaVAEConfig(capacity_max=20.0, capacity_steps=100, gamma=1000.0,
                                          warmup_steps=200))
    assert warm_capacity(_out(), 50)["kl"].item() == pytest.approx(250 * abs(kl - 10.0), rel=1e-5)
    with pytest.raises(UserError):
        BetaVAEConfig(warmup_steps=-1).validate()


def _log_normal(z: float, m: float, lv: float) -> float:
    return -0.5 * (math.log(2 * math.pi) + lv + (z - m) ** 2 / math.exp(lv))


def test_betatcvae_mws_by_hand_and_sums_to_mc_kl() -> None:
    n_data, (m, d) = 100, Z.shape
    zs, mus, lvs = Z.tolist(), MU.tolist(), LOGVAR.tolist()
    mi = tc = dimkl = 0.0
    for i in range(m):
        log_qzx = sum(_log_normal(zs[i][k], mus[i][k], lvs[i][k]) for k in range(d))
        log_pz = sum(_log_normal(zs[i][k], 0.0, 0.0) for k in range(d))
        joint = [sum(_log_normal(zs[i][k], mus[j][k], lvs[j][k]) for k in range(d))
                 for j in range(m)]
        log_qz = math.log(sum(math.exp(v) for v in joint)) - math.log(n_data * m)
        log_prod = sum(
            math.log(sum(math.exp(_log_normal(zs[i][k], mus[j][k], lvs[j][k])) for j in range(m)))
            - math.log(n_data * m) for k in range(d))
        mi += (log_qzx - log_qz) / m
        tc += (log_qz - log_prod) / m
        dimkl += (log_prod - log_pz) / m
    parts = tc_decomposition(Z, MU, LOGVAR, n_data)
    assert parts["mi"].item() == pytest.approx(mi, abs=1e-4)
    assert parts["tc"].item() == pytest.approx(tc, abs=1e-4)
    assert parts["dimkl"].item() == pytest.approx(dimkl, abs=1e-4)
    mc_kl = sum(sum(_log_normal(zs[i][k], mus[i][k], lvs[i][k]) - _log_normal(zs[i][k], 0, 0)
                    for k in range(d)) for i in range(m)) / m
    assert sum(p.item() for p in parts.values()) == pytest.approx(mc_kl, abs=1e-4)
    # the term optimises this MWS objective (its entries sum to it); it logs MSS's parts
    weighted = BetaTCVAE(BetaTCVAEConfig(alpha=2, beta=6, gamma=3), n_data)(_out(), 0)
    assert sum(v.item() for v in weighted.values()) == pytest.approx(2 * mi + 6 * tc + 3 * dimkl,
                                                                     abs=1e-3)
    mss = tc_decomposition(Z, MU, LOGVAR, n_data, "mss")
    for name, weight in (("mi", 2), ("tc", 6), ("dimkl", 3)):
        assert weighted[name].item() == pytest.approx(weight * mss[name].item(), abs=1e-4)


def test_betatcvae_equals_analytic_kl_when_posterior_is_the_prior() -> None:
    """q(z|x) = p(z) for every x: q(z) = p(z) is factorised, so MI + TC + dimKL = KL = 0 and
    each part vanishes (with N = 1, MWS is exact)."""
    z = torch.randn(64, 3)
    zeros = torch.zeros(64, 3)
    parts = tc_decomposition(z, zeros, zeros, dataset_size=1)
    for name in ("mi", "tc", "dimkl"):
        assert abs(parts[name].item()) < 1e-5
    assert kl_per_dim(zeros, zeros).sum().item() == 0.0


def test_dip_covariances_and_penalties_by_hand() -> None:
    mu = MU.numpy().astype(np.float64)
    cov1 = np.cov(mu.T, bias=True)
    cov2 = cov1 + np.diag(np.exp(LOGVAR.numpy()).mean(0))
    assert np.allclose(dip_covariance(MU, None).numpy(), cov1, atol=1e-5)
    assert np.allclose(dip_covariance(MU, LOGVAR).numpy(), cov2, atol=1e-5)
    off, diag = dip_penalties(torch.tensor(cov1))
    assert off.item() == pytest.approx(2 * cov1[0, 1] ** 2)
    assert diag.item() == pytest.approx((cov1[0, 0] - 1) ** 2 + (cov1[1, 1] - 1) ** 2)
    # a near-identity float32 matrix: small off-diagonal entries beside a diagonal near 1
    # (the whole sum less the diagonal's gave 0 or a negative sum of squares)
    near = np.eye(10) + 3e-4 * np.random.default_rng(0).standard_normal((10, 10))
    off32, _ = dip_penalties(torch.tensor(near, dtype=torch.float32))
    true = (near ** 2).sum() - (np.diag(near) ** 2).sum()
    assert off32.item() == pytest.approx(true, rel=1e-4)
    # each term with its own weight; DIP-VAE-I's diagonal is Cov[mu]'s alone (the posterior
    # variances change only the diagonal, so only the diagonal penalties tell I from II)
    one = DIPVAEI(DIPVAEIConfig(lambda_od=10, lambda_d=100))(_out(), 0)
    assert one["offdiag"].item() == pytest.approx(10 * 2 * cov1[0, 1] ** 2, rel=1e-4)
    assert one["diag"].item() == pytest.approx(
        100 * ((cov1[0, 0] - 1) ** 2 + (cov1[1, 1] - 1) ** 2), rel=1e-4)
    two = DIPVAEII(DIPVAEIIConfig(lambda_od=3, lambda_d=5))(_out(), 0)
    assert two["offdiag"].item() == pytest.approx(3 * 2 * cov2[0, 1] ** 2, rel=1e-4)
    expected = 5 * ((cov2[0, 0] - 1) ** 2 + (cov2[1, 1] - 1) ** 2)
    assert two["diag"].item() == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("kernel", ["rbf", "imq"])
def test_mmd_by_hand(kernel: str) -> None:
    """D = 3 with 2 and 4 rows: the default scale (rbf D^2 = 9, Zhao et al.'s
    ``exp(-mean_d (a_d - b_d)^2 / D)``; imq 2 D = 6) differs from 2 n and 2 m of either
    sample, and an explicit scale is used as given."""
    x = [[0.0, 1.0, 0.5], [1.0, 0.0, -0.5]]
    y = [[0.5, 0.5, 0.0], [2.0, -1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, 0.5, 2.0]]

    def by_hand(s: float) -> float:
        def k(a: list[float], b: list[float]) -> float:
            d2 = sum((p - q) ** 2 for p, q in zip(a, b, strict=True))
            return math.exp(-d2 / s) if kernel == "rbf" else s / (s + d2)

        def mean_k(a: list[list[float]], b: list[list[float]]) -> float:
            return sum(k(p, q) for p, q in itertools.product(a, b)) / (len(a) * len(b))

        return mean_k(x, x) + mean_k(y, y) - 2 * mean_k(x, y)

    tx, ty = torch.tensor(x), torch.tensor(y)
    default = 9.0 if kernel == "rbf" else 6.0
    assert mmd(tx, ty, kernel).item() == pytest.approx(by_hand(default), 1e-5)
    assert mmd(tx, ty, kernel, scale=1.5).item() == pytest.approx(by_hand(1.5), 1e-5)
    assert by_hand(1.5) != pytest.approx(by_hand(default), 1e-3)  # the scale matters here
    assert mmd(tx, tx, kernel).item() == pytest.approx(0.0, abs=1e-6)


def test_infovae_weights() -> None:
    torch.manual_seed(0)
    cfg = InfoVAEConfig(alpha=0.5, lam=10.0)
    out = InfoVAE(cfg)(_out(), 0)
    assert out["kl"].item() == pytest.approx(0.5 * _kl_by_hand().sum(), rel=1e-5)
    torch.manual_seed(0)
    prior = torch.randn_like(Z)
    assert out["mmd"].item() == pytest.approx(9.5 * mmd(Z, prior).item(), rel=1e-5)
    torch.manual_seed(0)  # the configured kernel and scale reach the estimate
    imq = InfoVAE(InfoVAEConfig(alpha=0.0, lam=2.0, kernel="imq", scale=0.5))(_out(), 0)
    assert imq["mmd"].item() == pytest.approx(mmd(Z, prior, "imq", 0.5).item(), rel=1e-5)
    assert imq["mmd"].item() != pytest.approx(mmd(Z, prior).item(), rel=1e-3)


def test_infovae_rejects_negative_weights() -> None:
    """Zhao et al.'s weights 1 - alpha and alpha + lambda - 1 must not be negative: a negative
    one would reward a posterior far from the prior (an objective without a minimum)."""
    for alpha, lam in ((2.0, 1000.0), (0.0, 0.5), (-1.0, 1.5)):
        with pytest.raises(UserError, match="must be >= 0"):
            InfoVAEConfig(alpha=alpha, lam=lam).validate()
    for alpha, lam in ((0.0, 1000.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 2.0)):
        InfoVAEConfig(alpha=alpha, lam=lam).validate()


def test_factorvae_permutation_and_discriminator_step() -> None:
    torch.manual_seed(0)
    z = torch.arange(20.0).reshape(10, 2)
    p = permute_dims(z)
    for col in range(2):
        assert sorted(p[:, col].tolist()) == z[:, col].tolist()
    assert not torch.equal(p, z)
    term = FactorVAE(FactorVAEConfig(gamma=2.0, hidden=8, layers=2), latent_dim=2)
    out = _out()
    logits = term.discriminator(Z)
    assert term(out, 0)["tc"].item() == pytest.approx(
        2.0 * (logits[:, 0] - logits[:, 1]).mean().item(), rel=1e-5)
    opt = term.configure_optimizer()
    assert {id(q) for g in opt.param_groups for q in g["params"]} == {
        id(q) for q in term.discriminator.parameters()}
    # the adversary's loss trains the discriminator only: no gradient reaches the encoder's codes
    codes = Z.clone().requires_grad_(True)
    term.auxiliary_loss(_out(z=codes)).backward()
    assert codes.grad is None
    # joint codes are class 0, permuted ones class 1: a discriminator answering logits (2, 0)
    # whatever it reads costs -log softmax_0 on the joint and -log softmax_1 on the permuted
    constant = FactorVAE(FactorVAEConfig(hidden=4, layers=1), latent_dim=2)
    with torch.no_grad():
        constant.discriminator[-1].weight.zero_()
        constant.discriminator[-1].bias.copy_(torch.tensor([2.0, 0.0]))
    expected = 0.5 * (math.log1p(math.exp(-2.0)) + math.log1p(math.exp(2.0)))
    assert constant.auxiliary_loss(_out()).item() == pytest.approx(expected, rel=1e-6)
    t = torch.randn(256, 1)
    correlated = _out(z=torch.cat([t, t], 1), mu=torch.zeros(256, 2), logvar=torch.zeros(256, 2))
    before = term.auxiliary_loss(correlated).item()
    for group in opt.param_groups:
        group["lr"] = 1e-2
    for _ in range(100):
        opt.zero_grad()
        term.auxiliary_loss(correlated).backward()
        opt.step()
    assert term.auxiliary_loss(correlated).item() < before - 0.1  # learns to spot dependence
    # the density-ratio trick: class 0 is the joint, so dependent codes get a positive TC
    assert term(correlated, 0)["tc"].item() > 0.5


@pytest.mark.parametrize("betas", [[0.5], [0.5, 1.5], [-0.1, 0.9], [0.5, 0.9, 0.99]])
def test_factorvae_rejects_bad_adam_betas(betas: list[float]) -> None:
    # they reached torch.optim.Adam and failed there with a traceback
    with pytest.raises(UserError, match="betas"):
        FactorVAEConfig(betas=betas).validate()
    FactorVAEConfig(betas=[0.5, 0.9]).validate()


def test_term_lists_compose_and_incompatible_ones_fail() -> None:
    cfg = LossConfig(terms=["betatcvae", "dipvae_ii"])
    cfg.check_terms(variational=True)
    losses = build_losses(cfg, latent_dim=2, dataset_size=100)
    keys = set(losses(_out(), 0))
    assert keys == {"betatcvae/mi", "betatcvae/tc", "betatcvae/dimkl", "betatcvae/mws_minus_mss",
                    "dipvae_ii/offdiag", "dipvae_ii/diag"}
    for bad in (["betavae", "betatcvae"], ["dipvae_i"], ["nope"], ["betavae", "betavae"]):
        with pytest.raises(UserError):
            LossConfig(terms=bad).check_terms(variational=True)
    with pytest.raises(UserError):
        LossConfig(terms=["betavae"]).check_terms(variational=False)
    fv = build_losses(LossConfig(terms=["betavae", "factorvae"]), 2, 100)
    assert [t.name for t in fv.auxiliary] == ["factorvae"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(("config", "field"), [
    (BetaVAEConfig, "beta"), (BetaVAEConfig, "gamma"), (BetaVAEConfig, "capacity_max"),
    (BetaTCVAEConfig, "alpha"), (BetaTCVAEConfig, "beta"), (BetaTCVAEConfig, "gamma"),
    (InfoVAEConfig, "alpha"), (InfoVAEConfig, "lam"), (InfoVAEConfig, "scale"),
    (DIPVAEIConfig, "lambda_od"), (DIPVAEIIConfig, "lambda_d"),
    (FactorVAEConfig, "gamma"), (FactorVAEConfig, "lr"),
])
def test_nan_and_infinite_weights_are_refused(config: type, field: str, value: float) -> None:
    """NaN and infinity passed ``x < 0``: the run failed at its first steps with a NaN loss
    (advising a lower learning rate) and left a folder the same --out refused."""
    with pytest.raises(UserError, match=rf"\.{field} must be a finite number.*got {value}"):
        config(**{field: value}).validate()
