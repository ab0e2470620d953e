"""Synthfaces generation speed (images/s), rendering alone and into a store."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from latentplay import sources
from latentplay.sources.synthfaces import SynthfacesConfig, generate


def main(n: int = 5000) -> None:
    start = time.perf_counter()
    for _ in generate(SynthfacesConfig(n=n)):
        pass
    render_s = time.perf_counter() - start
    print(
        json.dumps(
            {
                "bench": "synthfaces_render",
                "images": n,
                "seconds": round(render_s, 3),
                "images_per_s": round(n / render_s, 1),
            }
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        sources.make("synthfaces", Path(tmp) / "faces", n=n)
        store_s = time.perf_counter() - start
    print(
        json.dumps(
            {
                "bench": "synthfaces_make_store",
                "images": n,
                "seconds": round(store_s, 3),
                "images_per_s": round(n / store_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
