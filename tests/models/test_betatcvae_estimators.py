"""beta-TCVAE's two estimators of log q(z): minibatch-weighted sampling (MWS, optimised by
default) and minibatch stratified sampling (MSS, what is logged). MWS's MI, TC and dimKL are
off by constants (+log N, +(D-1) log N, -D log N when every posterior is the prior); MSS's
importance weights sum to 1 per sample, so equal posteriors give MI = TC = 0, dimKL = KL."""

from __future__ import annotations

import math

import pytest
import torch

from latentplay.errors import UserError
from latentplay.models.losses import BetaTCVAE, BetaTCVAEConfig, tc_decomposition, tc_estimates
from latentplay.models.losses.betatcvae import gaussian_log_density, log_importance_weights
from latentplay.models.vae import VAEOutput

MU = torch.tensor([[0.5, -1.0], [1.5, 0.0], [-0.5, 2.0], [0.2, 0.3]], dtype=torch.float64)
LOGVAR = torch.tensor([[0.0, -1.0], [0.5, 0.2], [-0.3, 0.0], [0.1, -0.4]], dtype=torch.float64)
Z = torch.tensor([[0.3, -0.8], [1.2, 0.4], [-0.1, 1.5], [0.0, 0.1]], dtype=torch.float64)


def _log_normal(z: float, m: float, lv: float) -> float:
    return -0.5 * (math.log(2 * math.pi) + lv + (z - m) ** 2 / math.exp(lv))


def _mss_weight(i: int, j: int, m: int, n: int) -> float:
    """Chen et al.'s stratified weight of posterior j in the estimate of q(z_i)."""
    if i == j:
        return 1 / n
    if j == (i + 1) % m:
        return (n - m + 1) / (n * (m - 1))
    return 1 / (m - 1)


def _mc_kl(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> float:
    return (gaussian_log_density(z, mu, logvar) - gaussian_log_density(z, 0 * z, 0 * z)).sum(1).mean().item()


def _out(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> VAEOutput:
    x = torch.zeros(len(z), 1, 4, 4)
    return VAEOutput(x=x, logits=x, mu=mu, logvar=logvar, z=z, recon=torch.zeros(len(z)))


def test_mss_by_hand_and_sums_to_mc_kl() -> None:
    n, (m, d) = 100, Z.shape
    zs, mus, lvs = Z.tolist(), MU.tolist(), LOGVAR.tolist()
    mi = tc = dimkl = 0.0
    for i in range(m):
        log_qzx = sum(_log_normal(zs[i][k], mus[i][k], lvs[i][k]) for k in range(d))
        log_pz = sum(_log_normal(zs[i][k], 0.0, 0.0) for k in range(d))
        log_qz = math.log(sum(_mss_weight(i, j, m, n) * math.exp(
            sum(_log_normal(zs[i][k], mus[j][k], lvs[j][k]) for k in range(d))) for j in range(m)))
        log_prod = sum(math.log(sum(_mss_weight(i, j, m, n)
                                    * math.exp(_log_normal(zs[i][k], mus[j][k], lvs[j][k]))
                                    for j in range(m))) for k in range(d))
        mi += (log_qzx - log_qz) / m
        tc += (log_qz - log_prod) / m
        dimkl += (log_prod - log_pz) / m
    parts = tc_decomposition(Z, MU, LOGVAR, n, "mss")
    for name, value in (("mi", mi), ("tc", tc), ("dimkl", dimkl)):
        assert parts[name].item() == pytest.approx(value, abs=1e-9)
    assert sum(p.item() for p in parts.values()) == pytest.approx(_mc_kl(Z, MU, LOGVAR), abs=1e-9)


@pytest.mark.parametrize("m", [1, 2, 3, 16])
def test_mss_weights_sum_to_one_per_sample(m: int) -> None:
    w = log_importance_weights(m, 300, "mss").exp()
    assert torch.allclose(w.sum(1), torch.ones(m, dtype=w.dtype))
    if m > 1:
        assert torch.allclose(w.diagonal(), torch.full((m,), 1 / 300, dtype=w.dtype))
    with pytest.raises(ValueError):
        log_importance_weights(8, 4, "mss")


def test_equal_posteriors_give_no_mi_no_tc_and_dimkl_the_kl() -> None:
    """Every image with the same posterior: q(z) is that posterior, factorised, so MI = TC = 0
    and dimKL is the whole KL. MSS says so; MWS is off by log N per log q estimate."""
    torch.manual_seed(0)
    m, d, n = 64, 5, 270
    mu = torch.tensor([0.3, -1.0, 0.0, 2.0, 0.5], dtype=torch.float64).expand(m, d)
    logvar = torch.tensor([-1.0, 0.0, 0.5, -2.0, 0.0], dtype=torch.float64).expand(m, d)
    z = mu + torch.randn(m, d, dtype=torch.float64) * (0.5 * logvar).exp()
    both = tc_estimates(z, mu, logvar, n)
    mss, mws = both["mss"], both["mws"]
    assert abs(mss["mi"].item()) < 1e-9 and abs(mss["tc"].item()) < 1e-9
    assert mss["dimkl"].item() == pytest.approx(_mc_kl(z, mu, logvar), abs=1e-9)
    log_n = math.log(n)
    assert mws["mi"].item() == pytest.approx(log_n, abs=1e-9)
    assert mws["tc"].item() == pytest.approx((d - 1) * log_n, abs=1e-9)
    assert mws["dimkl"].item() == pytest.approx(_mc_kl(z, mu, logvar) - d * log_n, abs=1e-9)
    # the posterior is the prior: KL = 0 and so every MSS part
    zeros = torch.zeros(m, d, dtype=torch.float64)
    prior = tc_decomposition(torch.randn(m, d, dtype=torch.float64), zeros, zeros, n, "mss")
    assert all(abs(v.item()) < 1e-9 for v in prior.values())


def test_logged_entries_sum_to_the_objective_of_either_estimator() -> None:
    """MWS (the default objective): MSS's weighted parts plus mws_minus_mss equal MWS's
    weighted sum, value and gradient; MSS: its weighted parts alone."""
    n, cfg = 100, {"alpha": 2.0, "beta": 6.0, "gamma": 3.0}
    mu = MU.clone().requires_grad_(True)
    default = BetaTCVAE(BetaTCVAEConfig(**cfg), n)(_out(Z, mu, LOGVAR), 0)
    assert set(default) == {"mi", "tc", "dimkl", "mws_minus_mss"}
    mws = tc_decomposition(Z, mu, LOGVAR, n, "mws")
    objective = 2 * mws["mi"] + 6 * mws["tc"] + 3 * mws["dimkl"]
    total = sum(default.values())
    assert total.item() == pytest.approx(objective.item(), abs=1e-9)
    (g_total,) = torch.autograd.grad(total, mu, retain_graph=True)
    (g_objective,) = torch.autograd.grad(objective, mu)
    assert torch.allclose(g_total, g_objective, atol=1e-9)
    mss = tc_decomposition(Z, MU, LOGVAR, n, "mss")
    for name, weight in (("mi", 2), ("tc", 6), ("dimkl", 3)):
        assert default[name].item() == pytest.approx(weight * mss[name].item(), abs=1e-9)
    stratified = BetaTCVAE(BetaTCVAEConfig(**cfg, estimator="mss"), n)(_out(Z, MU, LOGVAR), 0)
    assert set(stratified) == {"mi", "tc", "dimkl"}
    for name in ("mi", "tc", "dimkl"):
        assert stratified[name].item() == pytest.approx(default[name].item(), abs=1e-9)


def test_an_unknown_estimator_is_refused() -> None:
    with pytest.raises(UserError, match=r"loss.betatcvae.estimator must be mws .* or mss"):
        BetaTCVAEConfig(estimator="iwae").validate()
    BetaTCVAEConfig(estimator="mss").validate()
