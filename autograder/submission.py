"""Reading a submitted notebook: size, encoding, format, and the cells that will run.

Locked cells (given code, public checks) are restored from the released notebook by
their grade id, as nbgrader's OverwriteCells does, so both front doors run the same
code whatever the student edited.
"""

from __future__ import annotations

import ast
import functools
import json
from pathlib import Path

import nbformat

from .config import KIT_ROOT, CourseConfig

CHOICE_NAMES = ("LEARNING_RATE", "EPOCHS", "TOLERANCE")
# Names that let a cell change other names behind the parser's back.
_INDIRECTION = {"exec", "eval", "globals", "locals", "vars", "setattr", "__import__",
                "get_ipython", "__builtins__", "builtins", "sys"}  # fmt: skip


class BadSubmission(ValueError):
    """The submitted file cannot be read as this assignment's notebook."""


def read_notebook(path: Path, config: CourseConfig):
    """The notebook at `path`, or BadSubmission saying what is wrong with the file."""
    path = Path(path)
    if path.is_dir():
        raise BadSubmission(f"{path.name} is a folder, not a notebook file")
    if not path.is_file():
        raise BadSubmission(f"{path.name} does not exist")
    limit = config.notebook_max_mb * 2**20
    size = path.stat().st_size
    if size > limit:
        raise BadSubmission(
            f"the file is {size / 2**20:.1f} MB, over the "
            f"{config.notebook_max_mb:g} MB limit "
            "(clear the outputs and save again)"
        )
    return parse_notebook(path.read_bytes())


def parse_notebook(raw: bytes):
    if not raw.strip():
        raise BadSubmission("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadSubmission(f"the file is not UTF-8 text ({error.reason})") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise BadSubmission(f"the file is not valid notebook JSON ({error})") from None
    if not isinstance(data, dict):
        raise BadSubmission("the file is JSON but not a Jupyter notebook (no cells)")
    if "nbformat" in data and data["nbformat"] != 4:
        raise BadSubmission(
            f"the notebook is nbformat {str(data['nbformat'])[:20]}; open it in a "
            "current Jupyter and save it again (nbformat 4)"
        )
    if not isinstance(data.get("cells"), list) or data.get("nbformat") != 4:
        raise BadSubmission("the file is JSON but not a Jupyter notebook (no cells)")
    try:
        # reads, not from_dict: it joins multi-line sources as nbformat.read does.
        return nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises assorted types on odd input
        raise BadSubmission(f"the notebook could not be read ({error})") from None


def released_notebook(config: CourseConfig):
    """The released notebook, as students received it (a fresh copy each call)."""
    path = KIT_ROOT / "release" / config.assignment_id / f"{config.assignment_id}.ipynb"
    return nbformat.read(path, as_version=4)


@functools.cache
def released_cells(assignment_id: str) -> dict:
    """grade id -> the released cell, for every cell the student may not change."""
    path = KIT_ROOT / "release" / assignment_id / f"{assignment_id}.ipynb"
    release = nbformat.read(path, as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: cell
        for cell in release.cells
        if cell.metadata.get("nbgrader", {}).get("locked")
    }


def grade_id(cell) -> str | None:
    metadata = cell.get("metadata")
    if not isinstance(metadata, dict):
        return None
    nbgrader = metadata.get("nbgrader")
    if not isinstance(nbgrader, dict):
        return None
    value = nbgrader.get("grade_id")
    return value if isinstance(value, str) else None


def runnable_cells(nb, config: CourseConfig) -> list[tuple[int, str]]:
    """(cell index, source) of every code cell, locked ones restored from release."""
    locked = released_cells(config.assignment_id)
    seen = set()
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        gid = grade_id(cell)
        source = cell.get("source", "")
        if gid in locked and gid not in seen:
            source = locked[gid].source
        if gid:
            seen.add(gid)
        if isinstance(source, list):
            source = "".join(str(line) for line in source)
        cells.append((index, str(source)))
    return cells


def choices_are_constant(sources: list[str]) -> bool:
    """True when each choice is assigned once, at top level, a constant expression.

    Anything else (a value drawn from a generator, computed, assigned in a loop or
    through exec/globals) makes the grader run the notebook a second time to see
    whether the values change.
    """
    assigned = {name: [] for name in CHOICE_NAMES}
    for source in sources:
        tree = _parse_cell(source)
        if tree is None:
            if any(name in source for name in CHOICE_NAMES):
                return False
            continue
        if _uses_indirection(tree):
            return False
        _collect_assignments(tree, assigned)
    return all(
        len(values) == 1 and values[0] is not None for values in assigned.values()
    )


def _parse_cell(source: str):
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, RecursionError):
        return None


def _uses_indirection(tree) -> bool:
    return any(
        isinstance(node, ast.Name)
        and node.id in _INDIRECTION
        or isinstance(node, ast.Attribute)
        and node.attr in _INDIRECTION
        or isinstance(node, ast.Global)
        for node in ast.walk(tree)
    )


def _collect_assignments(tree, assigned) -> None:
    """Record each binding of a choice: its value if a top-level constant, else None."""
    constant_targets = set()
    for statement in tree.body:
        single = isinstance(statement, ast.Assign) and len(statement.targets) == 1
        target = statement.targets[0] if single else None
        if isinstance(target, ast.Name) and target.id in assigned:
            if _is_constant(statement.value):
                constant_targets.add(id(target))
                assigned[target.id].append(statement.value)
    for node in ast.walk(tree):
        binds = isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del)
        if binds and node.id in assigned and id(node) not in constant_targets:
            assigned[node.id].append(None)


def _is_constant(node) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float | str | bool)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _is_constant(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(
        node.op, ast.Add | ast.Sub | ast.Mult | ast.Div | ast.FloorDiv | ast.Pow
    ):
        return _is_constant(node.left) and _is_constant(node.right)
    return False
