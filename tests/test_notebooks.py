"""Every notebook in notebooks/ runs top to bottom without an error, and
every figure it draws is stored in it as an image.

Each runs at the small scale (FASTPAR_NOTEBOOK_SCALE=small) in a kernel of
the interpreter running the tests, through a kernel spec installed into a
temporary directory; the committed notebooks are not modified. Those runs
are skipped only where the notebook tooling (nbclient, ipykernel,
matplotlib) cannot be installed. The committed notebooks' stored outputs
are checked too: a plotting cell without an image output is a chart a
reader never sees.
"""

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.thread_unsafe(reason="notebook kernels, pools and processes of their own; sets os.environ")

KERNEL_NAME = "fastpar-test"

# A cell that draws: it calls pyplot or matplotlib, or a .plot( method.
PLOTTING = re.compile(r"\bplt\.|\bmatplotlib\b|\.plot\(")
# Calls that make a figure of their own: each needs its own image.
NEW_FIGURE = re.compile(r"\bplt\.(subplots|figure|subplot_mosaic)\(")


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def missing_images(cells):
    """(index, first line, images found, images expected) of every plotting
    code cell with fewer image/png outputs than the figures it makes."""
    out = []
    for i, cell in enumerate(cells):
        src = _source(cell)
        if cell.get("cell_type") != "code" or not PLOTTING.search(src):
            continue
        images = sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
        expected = max(1, len(NEW_FIGURE.findall(src)))
        if images < expected:
            first = next((l for l in src.splitlines() if l.strip() and not l.startswith(("#", "%"))), "")
            out.append((i, first, images, expected))
    return out


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernel spec named KERNEL_NAME that runs this interpreter."""
    for module in ("nbformat", "nbclient", "matplotlib", "pandas", "psutil"):
        pytest.importorskip(module)
    kernelspec = pytest.importorskip("ipykernel.kernelspec")
    prefix = tmp_path_factory.mktemp("jupyter")
    kernelspec.install(kernel_name=KERNEL_NAME, prefix=str(prefix))
    old = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "FASTPAR_NOTEBOOK_SCALE", "MPLBACKEND")}
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(prefix / "share" / "jupyter"), old["JUPYTER_PATH"]])
    )
    os.environ["FASTPAR_NOTEBOOK_SCALE"] = "small"
    # A headless machine's backend: with it, a bare plt.show() draws nothing
    # into the notebook. The notebooks must store their figures all the same.
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
def test_committed_notebook_stores_its_figures(path):
    """The notebook as committed: executed, every figure stored as an image."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c.get("cell_type") == "code"]
    assert code and all(c.get("execution_count") for c in code), "committed without its outputs"
    assert any(PLOTTING.search(_source(c)) for c in code), "no chart at all"
    assert not missing_images(cells), f"plotting cells without their images: {missing_images(cells)}"
    # Modest images: a notebook of charts stays small enough to read on GitHub.
    for c in code:
        for o in c.get("outputs", []):
            png = o.get("data", {}).get("image/png", "")
            assert len("".join(png)) < 400_000, f"a {len(''.join(png)):,}-character image"


def test_missing_images_sees_a_chart_without_its_image():
    cells = [
        {"cell_type": "code", "source": "%matplotlib inline\nfig, ax = plt.subplots()\nplt.show()",
         "outputs": []},
        {"cell_type": "code", "source": ["df.plot(x='a')\n"],
         "outputs": [{"output_type": "stream", "text": "hi"}]},
        {"cell_type": "code", "source": "fig1 = plt.figure()\nfig2 = plt.figure()",
         "outputs": [{"output_type": "display_data", "data": {"image/png": "iVBOR"}}]},
        {"cell_type": "code", "source": "print(1)", "outputs": []},
        {"cell_type": "markdown", "source": "plt.show() in prose"},
        {"cell_type": "code", "source": "import matplotlib.pyplot as plt\nplt.plot([1])",
         "outputs": [{"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "x"}}]},
    ]
    assert [(i, images, expected) for i, _, images, expected in missing_images(cells)] == [
        (0, 0, 1), (1, 0, 1), (2, 1, 2)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, kernel):
    import nbclient
    import nbformat

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
    # every figure drawn in this run is in the notebook as an image
    assert not missing_images(nb.cells), f"plotting cells without their images: {missing_images(nb.cells)}"
    # every notebook says which build and scale produced its figures
    first = "".join(o.get("text", "") for o in code_cells[0].outputs if o.get("output_type") == "stream")
    assert "build" in first and "CPUs" in first and "scale: small" in first
