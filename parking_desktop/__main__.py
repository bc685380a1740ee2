import sys

from parking_desktop.cli.main import run

if __name__ == "__main__":
    # A frozen build's worker process (what-if repricing spawns them) starts this executable
    # again: this turns it into the worker instead of the program. Nothing when not frozen
    # (and multiprocessing, a noticeable import, is then not loaded at all).
    if getattr(sys, "frozen", False):
        import multiprocessing

        multiprocessing.freeze_support()
    raise SystemExit(run())
