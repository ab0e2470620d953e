"""Every figure draws users' names as written, without changing matplotlib's settings for
anything else (latentplay.viz.plain)."""

from __future__ import annotations

import ast
from pathlib import Path

import matplotlib

import latentplay
from latentplay.viz.distribution import count_bars
from latentplay.viz.plain import drawn_as_written

MAKERS = ("plt.subplots", "plt.figure", "Figure(")
"""Calls that make a matplotlib figure."""


def _figure_makers() -> list[tuple[str, str, list[str]]]:
    """(module path, function name, decorator names) of every function in latentplay's source
    that makes a figure itself (not only through a function nested in it)."""
    found = []
    for path in sorted(Path(latentplay.__file__).parent.rglob("*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef):
                continue
            own = ast.get_source_segment(source, node) or ""
            nested = [ast.get_source_segment(source, n) or "" for n in ast.walk(node)
                      if isinstance(n, ast.FunctionDef) and n is not node]
            if any(m in own for m in MAKERS) and not any(m in n for n in nested for m in MAKERS):
                decorators = [ast.unparse(d) for d in node.decorator_list]
                found.append((path.name, node.name, decorators))
    return found


def test_every_function_that_makes_a_figure_draws_names_as_written() -> None:
    makers = _figure_makers()
    assert len(makers) > 30          # the scan finds the figures (bias_bars, projection_png, ...)
    assert ("bias.py", "bias_bars", ["drawn_as_written"]) in makers
    bare = [(path, name) for path, name, decorators in makers if "drawn_as_written" not in decorators]
    assert bare == []


def test_a_figure_s_names_stay_plain_and_matplotlib_s_settings_are_left_as_they_were() -> None:
    """After a figure is made, its texts keep parse_math off when it is drawn, while a text the
    user adds (or any later figure of theirs) is mathtext as matplotlib's settings say."""
    assert matplotlib.rcParams["text.parse_math"] is True
    fig = count_bars(["$100", "a$b$c"], [3, 5], title="$\\frac$ shares")
    assert matplotlib.rcParams["text.parse_math"] is True
    fig.canvas.draw()                # $\frac$ would raise a mathtext parse error
    ticks = [t for ax in fig.axes for t in ax.get_xticklabels() if t.get_text()]
    assert {t.get_text() for t in ticks} >= {"$100", "a$b$c"}
    assert not any(t.get_parse_math() for t in ticks)
    assert fig.text(0, 0, "$\\alpha$").get_parse_math()


def test_the_settings_come_back_when_a_figure_fails() -> None:
    @drawn_as_written
    def broken() -> None:
        assert matplotlib.rcParams["text.parse_math"] is False
        raise ValueError("no figure")

    try:
        broken()
    except ValueError:
        pass
    assert matplotlib.rcParams["text.parse_math"] is True


def test_a_name_of_several_lines_is_fitted_line_by_line() -> None:
    """Each line of a tick label such as ``class\\n(n=4)`` is measured on its own (the newline
    was measured as a glyph the font lacks, with a warning) and shortened on its own."""
    import warnings

    from latentplay.viz.style import fitted, text_width

    long = "a" * 40 + "b" * 40
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fitted(f"{long}\nshort", 1.0, 8, " (n=4)")
    first, second = out.split("\n")
    assert second == "short (n=4)"
    assert first.startswith("a") and first.endswith("b") and "…" in first
    assert text_width(first, 8) <= 1.0 < text_width(long, 8)


def test_figures_made_in_two_threads_at_once_each_draw_names_as_written(overlap) -> None:
    """A figure begun in one thread while another thread's is being made still reads names
    as written to its end, and matplotlib's settings are as they were once both are made (at
    once, the first to finish put parse_math back on under the second, and the second left it
    off for good)."""
    seen = []

    @drawn_as_written
    def made_first() -> None:
        overlap.inside()

    @drawn_as_written
    def made_second() -> None:
        overlap.inside()
        seen.append(matplotlib.rcParams["text.parse_math"])

    overlap.run(made_first, made_second)
    assert seen == [False]
    assert matplotlib.rcParams["text.parse_math"] is True
