"""Execute the notebooks in place, at full size, so that they are committed
with their outputs: python scripts/run_notebooks.py [NOTEBOOK ...]

Each runs in a kernel of this interpreter (install fastpar and the `test`
extra into it first), with notebooks/ as its working directory, one after
the other so that they do not time each other's work. Every plotting cell
selects the inline backend itself, so the figures are stored as images
whatever MPLBACKEND says; a notebook whose plotting cell stores no image
is reported and the script fails (tests/test_notebooks.py checks the same).
"""

import os
import sys
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_notebooks import missing_images  # noqa: E402


def main(argv):
    paths = [Path(p).resolve() for p in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    os.environ.pop("FASTPAR_NOTEBOOK_SCALE", None)  # full size
    failed = False
    for path in paths:
        t0 = time.perf_counter()
        nb = nbformat.read(path, as_version=4)
        nbclient.NotebookClient(nb, kernel_name="python3", timeout=None, allow_errors=False,
                                resources={"metadata": {"path": str(path.parent)}}).execute()
        missing = missing_images(nb.cells)
        nbformat.write(nb, path)
        print(f"{path.relative_to(ROOT)}: {time.perf_counter() - t0:.0f} s"
              + (f"; plotting cells without their images: {missing}" if missing else ""), flush=True)
        failed |= bool(missing)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
