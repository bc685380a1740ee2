"""The TrueType fonts embedded in every PDF. DejaVu Sans (Bitstream Vera licence, in
resources/fonts/) has €, ₹, £ and Latin, Greek, Cyrillic, Hebrew and Arabic letters, which the
PDF core fonts (Latin-1 only) do not; the program ships it, so a receipt looks the same on every
machine."""

from __future__ import annotations

import sys
from pathlib import Path

FAMILY = "DejaVuSans"
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"


def fonts_dir() -> Path:
    """``resources/fonts`` beside the package (source tree) or in a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    root = Path(bundle) if bundle else Path(__file__).resolve().parents[3]
    return root / "resources" / "fonts"


def font_files() -> dict[str, Path]:
    """Style ("" or "B") -> font file; FileNotFoundError naming the missing file."""
    folder = fonts_dir()
    files = {"": folder / REGULAR, "B": folder / BOLD}
    for path in files.values():
        if not path.is_file():
            raise FileNotFoundError(f"The PDF font {path} is missing from this installation.")
    return files
