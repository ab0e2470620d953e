"""End to end: serve the playground on 127.0.0.1, fetch the page, call handlers by API.

A guard records every connection or name lookup outside this machine: the app must make none.
(The test's own ``gradio_client`` would ask huggingface.co for an agent registry and send
telemetry through ``huggingface_hub``; the test switches that library offline.)
"""

from __future__ import annotations

import json
import socket
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio
import pytest
from huggingface_hub import constants as hf_constants

from latentplay.app import build_app, launch
from latentplay.app.ui import GRADIO_MAJOR
from latentplay.errors import UserError

LOCAL = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse and record connections and lookups of hosts that are not this machine."""
    outside: list[str] = []
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOCAL:
            outside.append(str(address[0]))
            raise OSError(f"test: no network ({address[0]})")
        return connect(sock, address)

    def guarded_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and str(host) not in LOCAL:
            outside.append(str(host))
            raise socket.gaierror(f"test: no network ({host})")
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    yield outside


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_page_and_call_handlers(cvae_run: Path, coded_faces: Path,
                                      offline: list[str]) -> None:
    from gradio_client import Client

    demo = build_app(run=cvae_run, data=coded_faces)
    port = _free_port()
    launch(demo, "127.0.0.1", port, block=False)
    try:
        url = f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(url, timeout=30) as page:
            html = page.read().decode()
        assert page.status == 200 and "gradio" in html.lower()
        with urllib.request.urlopen(url + "config", timeout=30) as response:
            config = json.loads(response.read())
        assert config["title"] == "latentplay"
        # a narrow window wraps a gallery's images (8 columns of 100 px or more scrolled sideways)
        assert "repeat(auto-fill" in config["css"] and "max-width: 900px" in config["css"]
        tabs = [c["props"].get("label") for c in config["components"] if c["type"] == "tabitem"]
        assert tabs == ["Sample", "Traverse", "Faces", "Projection", "Bias"]
        client = Client(url, verbose=False, download_files=False)
        gallery = client.predict(7, 5, 1.0, 0.5, "male", api_name="/sample")
        assert len(gallery) == 5
        again = client.predict(7, 5, 0.5, 0.5, "male", api_name="/sample")
        assert len(again) == 5
        with pytest.raises(Exception, match="out of range"):
            client.predict(3, 999, "slerp", 4, api_name="/interpolate")
        path = client.predict(3, 17, "slerp", 4, api_name="/interpolate")
        assert len(path) == 4
        _, tests = client.predict("gender", "smile", 2, api_name="/bias")
        assert tests.startswith("chi-square ")
    finally:
        demo.close()
    assert offline == []


def test_served_images_are_kept_in_the_sessions_temporary_folder(
        vae_run: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Gradio copies each image the playground serves into its cache folder; the tests left
    those copies in the system's ``<tmp>/gradio`` after every run."""
    demo = build_app(run=vae_run)
    assert Path(demo.GRADIO_CACHE).is_relative_to(tmp_path_factory.getbasetemp())


def test_busy_port_is_a_user_error(vae_run: Path) -> None:
    demo = build_app(run=vae_run)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        with pytest.raises(UserError, match=f"cannot serve on 127.0.0.1:{port}") as caught:
            launch(demo, "127.0.0.1", port, block=False)
    # what to do on the command line, not Gradio's advice (an environment variable, launch())
    assert "choose another --port" in str(caught.value)
    assert "GRADIO_SERVER_PORT" not in str(caught.value)
    with pytest.raises(UserError, match="--port must be in 1..65535, got 99999"):
        launch(demo, "127.0.0.1", 99999, block=False)


def test_the_command_refuses_a_gradio_older_than_the_extras(cli, faces_store: Path,
                                                            monkeypatch) -> None:
    """Gradio 5 built the whole page, then failed in ``launch()`` with a TypeError about
    ``css``: the command says which Gradio it needs before loading anything, and the ``app``
    extra asks for that one."""
    extra = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())[
        "project"]["optional-dependencies"]["app"]
    assert extra == [f"gradio>={GRADIO_MAJOR}.0"]
    from latentplay.app import ui

    def built(*args: Any) -> None:
        raise AssertionError("the page was built")

    monkeypatch.setattr(ui, "build_app", built)
    monkeypatch.setattr(gradio, "__version__", "5.49.1")
    r = cli("app", "--data", faces_store)
    assert r.code == 2 and r.out == "", r.out
    assert r.err.strip() == (f"error: the app needs gradio {GRADIO_MAJOR}.0 or later, found "
                             "5.49.1; install the extra: pip install 'latentplay[app]'")


def test_the_command_checks_its_address_before_printing_it(cli, faces_store: Path) -> None:
    """A busy port printed "latentplay playground on http://..." before its error line; a host
    not of this machine added the server's own ERROR log."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        r = cli("app", "--data", faces_store, "--port", str(port))
    assert r.code == 2 and r.out == "", r.out
    assert r.err.strip() == (f"error: cannot serve on 127.0.0.1:{port}: the port is in use; "
                             "choose another --port")
    r = cli("app", "--data", faces_store, "--host", "no-such-host.invalid")
    assert r.code == 2 and r.out == "" and "give another --host" in r.err, r.err
