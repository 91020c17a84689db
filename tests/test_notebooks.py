"""The notebooks run top to bottom, headless, from a fresh kernel; any error fails the test."""

import re

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _stdout(book) -> str:
    return "".join(
        output.get("text", "")
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("name") == "stdout"
    )


def test_the_five_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == [
        "01_quickstart",
        "02_gate_equations",
        "03_long_memory",
        "04_export_and_serve",
        "05_sequence_classification",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:  # run from scratch: the committed outputs play no part
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(
        book,
        timeout=600,
        kernel_name="python3",
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError on any error
    text = _stdout(book)
    if path.stem == "01_quickstart":
        assert "The model beats persistence on test MAE: True" in text
    if path.stem == "02_gate_equations":
        difference = re.search(
            r"max \|GateLSTM - keras LSTM\| over 8 x 12 x 16 outputs: (\S+)", text
        )
        assert difference and float(difference.group(1)) < 1e-5
    if path.stem == "03_long_memory":
        assert "SimpleRNN fails at 50 and the LSTMs solve it: True" in text
    if path.stem == "04_export_and_serve":
        assert "forecast for 1961-01, thousands of passengers: [[" in text
    if path.stem == "05_sequence_classification":
        assert "padding is NaN: True" in text
        assert "SavedModel gives the run's probabilities: True" in text
    assert not list((REPO / "notebooks").glob("runs")), "a notebook wrote into the repository"
