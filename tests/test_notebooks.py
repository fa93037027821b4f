"""Every analyst notebook in notebooks/ runs from top to bottom without error (as geopandas and folium
run their examples in CI).

The kernel is ``python3`` as this interpreter provides it: ipykernel installs a ``python3`` kernelspec
into the virtual environment (``share/jupyter/kernels``) whose command is plain ``python``, and
jupyter_client launches that as ``sys.executable`` — the venv's own Python, with ``geo`` importable. No
kernelspec needs installing by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ has no notebooks to run"


def test_the_python3_kernel_is_this_interpreter() -> None:
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] in ("python", "python3", sys.executable), spec.argv


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors
