"""Reports of training runs: sections, embedded images, numbers from the run's files,
optional files left out, disentanglement metrics, bad config, escaping."""

from __future__ import annotations

import csv
import shutil
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from report_html import assert_self_contained, decode_image, parse, row_of, value

from latentplay.errors import UserError
from latentplay.metrics.evaluate import append_dis_metrics
from latentplay.report import build_report
from latentplay.train.fidelity import record
from latentplay.train.summary import condition_text, held_text, read_summary, reconstruction_text


def _last_row(path: Path) -> dict[str, str]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))[-1]


def _copy(run: Path, tmp_path: Path) -> Path:
    """A copy of ``run`` without its large checkpoint (the report does not read it)."""
    return Path(shutil.copytree(run, tmp_path / run.name,
                                ignore=shutil.ignore_patterns("checkpoint.pt", "report.html")))


def test_cvae_report_sections_images_and_numbers(cvae_run: Path, tmp_path: Path) -> None:
    out = build_report(cvae_run, tmp_path / "r.html")
    text = out.read_text(encoding="utf-8")
    html = assert_self_contained(out)
    assert html.sections == ["run", "config", "losses", "final", "latents", "images"]
    kinds = [decode_image(src).format for src in html.images]
    # loss curves, KL/variance bars, variance heatmap, recon PNG + GIF, samples, force_condition
    assert kinds.count("GIF") == 1 and len(kinds) == 7
    final = html.tables["final"][0]
    assert final[0] == ["term", "train", "test"]
    test_row, train_row = _last_row(cvae_run / "test_metrics.csv"), None
    for term in ("loss", "recon", "kl"):
        assert value(row_of(final, term)[2]) == pytest.approx(float(test_row[term]), rel=1e-3)
    with open(cvae_run / "metrics.csv", newline="") as fh:
        train_row = [r for r in csv.DictReader(fh) if r["scope"] == "epoch"][-1]
    assert value(row_of(final, "loss")[1]) == pytest.approx(float(train_row["loss"]), rel=1e-3)
    assert "<details>" in text and "condition_layers" in text  # the YAML, collapsible
    assert "<dd>finished</dd>" in text and "<dd>2 of 2</dd>" in text and "smile" in text
    assert "each row's change from the first" in unescape(text)  # the samples grid's caption
    summary = read_summary(cvae_run)
    assert summary is not None
    # the device trained on, not the config's "auto"
    assert summary["device"] == "cpu" and "<dd>cpu (trainer.device auto) × 1," in text
    assert reconstruction_text(summary["reconstruction"]) in unescape(text)
    assert condition_text(summary["condition"]) in unescape(text)
    assert summary["condition_in_codes"] and all(held_text(found) in unescape(text)
                                                 for found in summary["condition_in_codes"])


def test_dcgan_report_has_fixed_noise_samples_and_no_latents(dcgan_run: Path,
                                                             tmp_path: Path) -> None:
    html = assert_self_contained(build_report(dcgan_run, tmp_path / "gan.html"))
    assert "latents" not in html.sections and "images" in html.sections
    assert {decode_image(s).format for s in html.images} == {"PNG", "GIF"}
    final = html.tables["final"][0]
    test_row = _last_row(dcgan_run / "test_metrics.csv")
    assert value(row_of(final, "loss_g")[2]) == pytest.approx(float(test_row["loss_g"]), rel=1e-3)


def test_default_out_and_missing_optional_files(vae_run: Path, tmp_path: Path) -> None:
    run = _copy(vae_run, tmp_path)
    for name in ("samples.png", "recon.gif", "latent_variance.png", "active_units.json",
                 "latents.npy"):
        (run / name).unlink()
    shutil.rmtree(run / "recon")
    out = build_report(run)
    assert out == run / "report.html"
    html = parse(out)
    assert "images" not in html.sections
    assert len(html.images) == 2  # loss curves and the KL bars, made at report time


def test_dis_metrics_table_and_curves(vae_run: Path, tmp_path: Path) -> None:
    run = _copy(vae_run, tmp_path)
    append_dis_metrics(run, {"mig.discrete_mig": 0.125, "sap.sap_score": 0.0312}, 1, 5)
    append_dis_metrics(run, {"mig.discrete_mig": 0.25, "sap.sap_score": 0.0625}, 2, 10)
    html = parse(build_report(run))
    assert html.sections[-1] == "dis"
    table = html.tables["dis"][0]
    assert table[0] == ["epoch", "step", "mig.discrete_mig", "sap.sap_score"]
    assert [value(c) for c in table[2]] == [2, 10, 0.25, 0.0625]


def test_fidelity_table_and_figure(vae_run: Path, tmp_path: Path) -> None:
    run = _copy(vae_run, tmp_path)
    values = {"precision": 0.5, "recall": 0.25, "density": 0.75, "coverage": 0.125,
              "frechet_distance": 3.5, "kernel_distance": 0.0625, "kernel_distance_std": 0.01}
    record(run, values, epoch=1, step=5)
    record(run, {**values, "coverage": 0.375}, epoch=2, step=10)
    record(run, {**values, "coverage": 0.5}, epoch=2, step=10)  # repeated after a resume
    html = parse(build_report(run))
    assert html.sections[-1] == "fidelity"
    table = html.tables["fidelity"][0]
    assert table[0][:6] == ["epoch", "step", "precision", "recall", "density", "coverage"]
    assert len(table) == 3 and [value(c) for c in table[2][:6]] == [2, 10, 0.5, 0.25, 0.75, 0.5]
    drawn = np.asarray(Image.open(run / "fidelity.png"))  # the figure record() drew, embedded
    assert sum(np.array_equal(np.asarray(decode_image(src)), drawn) for src in html.images) == 1


def test_stopped_run_says_how_to_resume(vae_run: Path, tmp_path: Path) -> None:
    run = _copy(vae_run, tmp_path)
    config = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(config.replace("epochs: 2\n", "epochs: 5\n"))
    text = build_report(run).read_text(encoding="utf-8")
    assert "2 of 5" in text and f"latentplay train --resume {run}" in text
    assert "<dd>finished</dd>" not in text


def test_corrupt_config_is_a_user_error(vae_run: Path, tmp_path: Path) -> None:
    run = _copy(vae_run, tmp_path)
    (run / "config.yaml").write_text("family: vae\ntrainer: [unclosed\n")
    with pytest.raises(UserError, match="config.yaml is not valid YAML"):
        build_report(run)
    assert not (run / "report.html").exists()


def test_a_folder_with_another_programs_config_is_no_run(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("foo: 1\n")
    with pytest.raises(UserError, match="names no model family: not the config of a run"):
        build_report(tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_damaged_metrics_is_a_user_error(vae_run: Path, tmp_path: Path) -> None:
    run = _copy(vae_run, tmp_path)
    with open(run / "test_metrics.csv", "a") as fh:
        fh.write("garbage,,\n")
    with pytest.raises(UserError, match="test_metrics.csv, line 4: no integer epoch"):
        build_report(run)


@pytest.mark.parametrize("name", ["dis_metrics.csv", "fidelity.csv"])
def test_damaged_optional_table_is_a_user_error(vae_run: Path, tmp_path: Path, name: str) -> None:
    run = _copy(vae_run, tmp_path)
    (run / name).write_text("epoch,step,precision,mig\n1,5,0.5,0.1\n,,0.4\n")
    with pytest.raises(UserError, match=f"{name}, line 3: no integer epoch and step"):
        build_report(run)


def test_config_strings_are_escaped(vae_run: Path, tmp_path: Path) -> None:
    run = _copy(vae_run, tmp_path)
    config = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(config.replace("preset: vae", "preset: <script>alert(1)</script>"))
    text = build_report(run).read_text(encoding="utf-8")
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def _captions(run: Path) -> list[str]:
    """The captions of every figure of the report page of training run ``run``."""
    from latentplay.report.page import Figure
    from latentplay.report.training import page

    return [b.caption for s in page(run).sections for b in s.blocks if isinstance(b, Figure)]


def test_variance_heatmap_caption_names_a_long_run_s_close_ups(vae_run: Path,
                                                              tmp_path: Path) -> None:
    """latent_variance.png of a run of more than 100 epochs has first/last-50-epoch panels:
    the caption says so (counting the epochs in latent_variance.csv); a short run's does not."""
    run = _copy(vae_run, tmp_path)
    short = next(c for c in _captions(run) if c.startswith("Variance of the encoder means"))
    assert "close-ups" not in short and "log colour scale" in short
    rows = ["epoch,var_0"] + [f"{e},0.5" for e in range(1, 102)]
    (run / "latent_variance.csv").write_text("\n".join(rows) + "\n")
    long = next(c for c in _captions(run) if c.startswith("Variance of the encoder means"))
    assert "all 101 epochs" in long and "first and last 50 epochs" in long


def test_the_gif_caption_says_when_it_shows_some_epochs(vae_run: Path, tmp_path: Path) -> None:
    """recon.gif shows each epoch up to 100, then 100 of them: "one frame per epoch" beside
    "25 of its 100 frames" contradicted itself for a run of 105 epochs."""
    run = _copy(vae_run, tmp_path)
    gif = next(c for c in _captions(run) if c.startswith("Reconstructions, "))
    assert gif.startswith("Reconstructions, one frame per epoch.")
    frame = next((run / "recon").glob("epoch_*.png")).read_bytes()
    for e in range(1, 106):
        (run / "recon" / f"epoch_{e:03d}.png").write_bytes(frame)
    gif = next(c for c in _captions(run) if c.startswith("Reconstructions, "))
    assert gif.startswith("Reconstructions, 100 of its 105 epochs, evenly spaced")


def test_force_condition_caption_names_the_own_value_column(cvae_run: Path) -> None:
    """force_condition.png has an original and an "own value" column before the forced values."""
    caption = next(c for c in _captions(cvae_run) if c.startswith("Forced condition"))
    assert "its decoding at its own value" in caption and "forced to" in caption


def test_channels_read_from_model_json_when_the_config_says_as_stored(vae_run: Path,
                                                                       tmp_path: Path) -> None:
    """``data.channels: 0`` (as stored) reads as the channels the model was built for."""
    from latentplay.report.page import Facts
    from latentplay.report.training import page

    run = _copy(vae_run, tmp_path)
    facts = dict(next(b for b in page(run).sections[0].blocks if isinstance(b, Facts)).items)
    assert facts["images"].startswith("32 px, 3 channel(s),")
    (run / "model.json").unlink()
    facts = dict(next(b for b in page(run).sections[0].blocks if isinstance(b, Facts)).items)
    assert "channels as stored" in facts["images"]


def test_score_curves_span_their_whole_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """MIG 0.013 -> 0.014 -> 0.005 filled its panel as a crash; on the 0-1 scale it is flat."""
    from latentplay.report import figures

    drawn = []
    monkeypatch.setattr(figures, "figure_uri", lambda fig: drawn.append(fig) or "")
    panel = {"mig": {"mig": ([1, 2, 3], [0.013, 0.014, 0.005])}}
    figures.curves(panel, "epoch", "scores", scale=(0.0, 1.0))
    low, high = drawn[-1].axes[0].get_ylim()
    assert low < 0 and high > 1
    figures.curves(panel, "epoch", "losses")                   # unbounded values: autoscaled
    low, high = drawn[-1].axes[0].get_ylim()
    assert 0 < low and high < 0.02


def test_loss_curves_are_readable_on_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three 3.6-inch panels a row printed their 7 pt ticks at 4.5 pt on a page: three panels
    now make about a page's width, where every text is 6 points or more."""
    from latentplay.report import figures
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    drawn = []
    monkeypatch.setattr(figures, "figure_uri", lambda fig: drawn.append(fig) or "")
    x = [1, 2, 3]
    figures.curves({name: {"train": (x, [3.0, 2.0, 1.0]), "test": (x, [3.5, 2.5, 1.5])}
                    for name in ("loss", "reconstruction", "kl", "beta")}, "epoch", "losses")
    assert printed_size(drawn[-1], PAGE_WIDTH) >= SMALLEST_TEXT


def test_dis_metrics_caption_puts_counts_on_their_own_scale(tmp_path: Path) -> None:
    """irs.num_active_dims (a count, 5) was captioned as drawn "on its whole 0-1 scale"; the
    caption names the count panels as on their own scale, and only when there are some."""
    from latentplay.report.page import Figure
    from latentplay.report.training import _dis_metrics

    for step in (1, 2):
        append_dis_metrics(tmp_path, {"mig.discrete_mig": 0.1 * step, "irs.num_active_dims": 5.0},
                           epoch=step, step=step)
    caption = next(b.caption for b in _dis_metrics(tmp_path).blocks if isinstance(b, Figure))
    assert "whole 0-1 scale" in caption and "(irs.num_active_dims) on their own scale" in caption
    (tmp_path / "dis_metrics.csv").unlink()
    for step in (1, 2):
        append_dis_metrics(tmp_path, {"mig.discrete_mig": 0.1 * step}, epoch=step, step=step)
    caption = next(b.caption for b in _dis_metrics(tmp_path).blocks if isinstance(b, Figure))
    assert caption.endswith("on its whole 0-1 scale.") and "count" not in caption


def test_a_gan_whose_discriminator_wins_is_flagged_in_the_report(dcgan_run: Path,
                                                                  tmp_path: Path) -> None:
    """The caution `latentplay train` prints after such a run heads the report's Run section."""
    run = _copy(dcgan_run, tmp_path)
    plain = (run / "report.html").parent / "plain.html"
    assert "discriminator tells every sample" not in build_report(run, plain).read_text()
    rows = list(csv.DictReader((run / "metrics.csv").read_text().splitlines()))
    last = next(r for r in reversed(rows) if r["scope"] == "epoch")
    last.update(d_real="0.99", d_fake="0.01")
    with (run / "metrics.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    text = unescape(build_report(run, tmp_path / "flagged.html").read_text())
    assert "Caution: the discriminator tells every sample from the training images" in text


def test_the_samples_caption_speaks_of_a_condition_only_for_a_conditional_run(
        cvae_run: Path, vae_run: Path, tmp_path: Path) -> None:
    conditional = unescape(build_report(cvae_run, tmp_path / "c.html").read_text())
    plain = unescape(build_report(vae_run, tmp_path / "v.html").read_text())
    assert "the same codes at each value of its first condition" in conditional
    assert "Samples from the prior, drawn when training finished." in plain
    assert "first condition" not in plain


def test_latent_dimensions_of_codes_that_never_vary_draw_without_a_warning() -> None:
    """A run of one image: every variance 0, which a log axis cannot show (matplotlib warned
    "Data has no positive values" into the report's output); drawn on a linear one."""
    import warnings

    from latentplay.report.figures import latent_dimensions

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        uri = latent_dimensions(np.zeros(4), np.zeros(4), np.zeros(4, bool), 0.01)
    assert uri.startswith("data:image/png;base64,")


def test_inactive_units_are_hatched_as_well_as_grey(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inactive units were grey bars among blue ones, 0.50 and 0.39 in luma: near alike on
    paper and to some colour-blind readers. They are hatched too (in both panels), the active
    ones plain, and the axis says so."""
    from latentplay.report import figures

    drawn: list = []
    monkeypatch.setattr(figures, "figure_uri", lambda fig: drawn.append(fig) or "data:,")
    active = np.array([True, False, True, False])
    figures.latent_dimensions(np.array([2.0, 0.01, 3.0, 0.02]), np.array([0.9, 0.001, 1.1, 0.002]),
                              active, 0.01)
    for ax in drawn[0].axes:
        assert [bool(p.get_hatch()) for p in ax.patches] == [False, True, False, True]
    assert "hatched: inactive" in drawn[0].axes[-1].get_xlabel()


def test_an_animation_can_be_stopped_and_images_are_not_read_out_twice(vae_run: Path,
                                                                         tmp_path: Path) -> None:
    """recon.gif looped forever with no way to stop it (WCAG 2.2.2), and every image's alt
    repeated its caption word for word: the GIF sits in an open <details> a reader can
    close, and alt texts are short, naming what the image shows (the caption's first
    clause), the caption describing the figure once."""
    import re

    from latentplay.report import build_report

    html = build_report(_copy(vae_run, tmp_path)).read_text()
    gifs = re.findall(r'<details open><summary>[^<]*</summary>\s*<img src="data:image/gif', html)
    assert len(gifs) == 1
    figures = re.findall(r'<img src="data:[^"]*" alt="([^"]*)">(?:</details>)?\s*<figcaption>([^<]*)',
                         html)
    assert figures and all(0 < len(alt) < len(caption) for alt, caption in figures)
    alts = [alt for alt, _ in figures]
    assert "Loss curves" in alts and "Animation: Reconstructions" in alts
    assert "Samples from the prior" in alts
