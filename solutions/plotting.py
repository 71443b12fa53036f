"""Shared plotting help for the kit: a Korean font that renders Hangul, not boxes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
from matplotlib import font_manager

FONT_PACKAGE = "koreanize_matplotlib"
FONT_FILE = "NanumGothic.ttf"
_FIX = "pip install koreanize-matplotlib"


def korean_font_path() -> Path:
    """Path of NanumGothic.ttf inside the installed koreanize-matplotlib package.

    find_spec locates the package without importing it: importing it would
    rewrite matplotlib's settings as a side effect, which the kit does not want.
    """
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"The kit's plots need the Korean font NanumGothic from the package "
            f"{FONT_PACKAGE}, which is not installed. Fix: {_FIX}",
            name=FONT_PACKAGE,
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / "fonts" / FONT_FILE
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"{FONT_PACKAGE} is installed but holds no fonts/{FONT_FILE} "
        f"(looked in {list(spec.submodule_search_locations)}). "
        f"Fix: {_FIX} --force-reinstall"
    )


def use_korean_font() -> str:
    """Register NanumGothic with matplotlib, make it the default, return its name."""
    path = korean_font_path()
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=path).get_name()
    matplotlib.rcParams["font.family"] = name
    # NanumGothic has no U+2212 minus sign; a plain hyphen keeps negatives legible.
    matplotlib.rcParams["axes.unicode_minus"] = False
    return name
