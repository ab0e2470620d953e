"""``python -m latentplay.train ...``: the ``latentplay train`` command (used by DDP workers)."""

from latentplay.cli import main

if __name__ == "__main__":
    import sys

    main(["train", *sys.argv[1:]])
