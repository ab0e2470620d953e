"""``latentplay app``: serve the Gradio playground for a run and/or a store.

:func:`app_command` is a Typer command function; ``latentplay.cli`` registers it as
``latentplay app [--run RUN] [--data STORE] [--host HOST] [--port N]``.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import typer

from latentplay.errors import UserError


def app_command(
    run: Path | None = typer.Option(None, "--run", help="Run directory of a trained model "
                                    "(Sample, Traverse; Faces with --data)."),
    data: Path | None = typer.Option(None, "--data", help="Store (Bias; Projection when it "
                                     "has a vector column; Faces with --run)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to serve on (0.0.0.0: "
                             "every interface of this machine)."),
    port: int = typer.Option(7860, "--port", help="Port to serve on."),
) -> None:
    """Serve the playground in a browser: sample, traverse, interpolate, edit, project.

    Open the printed address; Ctrl+C stops it."""
    if run is None and data is None:
        raise UserError("give --run RUN and/or --data STORE")
    if not 0 < port < 65536:  # before the address is printed and the run loaded
        raise UserError(f"--port must be in 1..65535, got {port}")
    check_address(host, port)  # one line, not the address printed and then the server's error
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio

        from latentplay.app.ui import GRADIO_MAJOR, build_app, launch
    except ImportError as exc:
        raise UserError(f"the app needs gradio ({exc}); install the extra: "
                        "pip install 'latentplay[app]'") from None
    if int(gradio.__version__.split(".")[0]) < GRADIO_MAJOR:
        raise UserError(f"the app needs gradio {GRADIO_MAJOR}.0 or later, found "
                        f"{gradio.__version__}; install the extra: pip install 'latentplay[app]'")
    demo = build_app(run, data)
    typer.echo(f"latentplay playground on http://{host}:{port} (Ctrl+C stops it)")
    launch(demo, host, port)


def check_address(host: str, port: int) -> None:
    """A :class:`UserError` when ``host:port`` cannot be served on: the port in use, or
    ``host`` not an address of this machine (tried by binding a socket there, then closing it)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UserError(f"cannot serve on {host}:{port}: {host} is not an address "
                        f"({exc.strerror or exc}); give another --host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(address)
        except OSError as exc:
            why = ("the port is in use; choose another --port" if exc.errno == errno.EADDRINUSE
                   else f"{exc.strerror or exc}; give an address of this machine as --host")
            raise UserError(f"cannot serve on {host}:{port}: {why}") from None
