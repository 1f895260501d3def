"""Every notebook in notebooks/ runs top to bottom without an error.

Each runs at the small scale (FASTPAR_NOTEBOOK_SCALE=small) in a kernel of
the interpreter running the tests, through a kernel spec installed into a
temporary directory; the committed notebooks are not modified. Skipped only
where the notebook tooling (nbclient, ipykernel, matplotlib) cannot be
installed.
"""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
kernelspec = pytest.importorskip("ipykernel.kernelspec")
pytest.importorskip("matplotlib")
pytest.importorskip("pandas")
pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.thread_unsafe(reason="notebook kernels, pools and processes of their own; sets os.environ")

KERNEL_NAME = "fastpar-test"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernel spec named KERNEL_NAME that runs this interpreter."""
    prefix = tmp_path_factory.mktemp("jupyter")
    kernelspec.install(kernel_name=KERNEL_NAME, prefix=str(prefix))
    old = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "FASTPAR_NOTEBOOK_SCALE", "MPLBACKEND")}
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(prefix / "share" / "jupyter"), old["JUPYTER_PATH"]])
    )
    os.environ["FASTPAR_NOTEBOOK_SCALE"] = "small"
    os.environ["MPLBACKEND"] = "Agg"
    yield KERNEL_NAME
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_there_are_notebooks():
    names = [p.name for p in NOTEBOOKS]
    for expected in ("01_gil_benchmark.ipynb", "02_thread_scaling.ipynb",
                     "03_pools_and_shared_data.ipynb", "05_batch_orchestrator.ipynb"):
        assert expected in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, kernel):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=kernel, timeout=180, allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all(c.get("execution_count") for c in code_cells)
    errors = [o for c in code_cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    # every notebook says which build and scale produced its figures
    first = "".join(o.get("text", "") for o in code_cells[0].outputs if o.get("output_type") == "stream")
    assert "build" in first and "CPUs" in first and "scale: small" in first
