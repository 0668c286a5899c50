"""Draw the app's two Teams icons (a ticket with "JB" cut out) and write them as PNG files.

The mark is one set of shapes on a 32-unit grid: a ticket with notched sides, the letters
cut out of it. The color icon (192x192) renders it anti-aliased on the accent color; the
outline icon (32x32) renders it at one sample per pixel, white on transparent, so every
pixel is either opaque white or fully transparent. Run `python -m manifest.icons` to
redraw `color.png` and `outline.png` next to this file.
"""

from __future__ import annotations

import logging
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

ICON_DIR = Path(__file__).parent
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
COLOR_SIZE = 192
OUTLINE_SIZE = 32
ACCENT_COLOR = "#1B5E3B"
"""Deep green, the icon background and the manifest's accentColor."""

GRID = 32.0
"""The mark is drawn on a GRID x GRID design square, scaled to each icon's size."""

COLOR_SUPERSAMPLING = 4
"""Samples per pixel along each axis for the anti-aliased color icon."""

Shape = Callable[[float, float], bool]
"""A region of the design square: True when the point (x, y) lies inside it."""


def rectangle(left: float, top: float, right: float, bottom: float) -> Shape:
    """An axis-aligned rectangle."""
    return lambda x, y: left <= x < right and top <= y < bottom


def rounded_rectangle(left: float, top: float, right: float, bottom: float, radius: float) -> Shape:
    """An axis-aligned rectangle whose corners are quarter circles of the given radius."""

    def inside(x: float, y: float) -> bool:
        if not (left <= x < right and top <= y < bottom):
            return False
        nearest_x = min(max(x, left + radius), right - radius)
        nearest_y = min(max(y, top + radius), bottom - radius)
        return (x - nearest_x) ** 2 + (y - nearest_y) ** 2 <= radius**2

    return inside


def circle(center_x: float, center_y: float, radius: float) -> Shape:
    """A disc."""
    return lambda x, y: (x - center_x) ** 2 + (y - center_y) ** 2 < radius**2


def ring_half(center_x: float, center_y: float, outer: float, inner: float, side: Literal["right", "below"]) -> Shape:
    """Half an annulus: the part to the "right" of, or "below", its center."""

    def inside(x: float, y: float) -> bool:
        if (side == "right" and x < center_x) or (side == "below" and y < center_y):
            return False
        distance = (x - center_x) ** 2 + (y - center_y) ** 2
        return inner**2 <= distance < outer**2

    return inside


TICKET: tuple[Shape, ...] = (rounded_rectangle(2, 7, 30, 25, 2.5),)
NOTCHES: tuple[Shape, ...] = (circle(2, 16, 3), circle(30, 16, 3))
LETTER_J: tuple[Shape, ...] = (
    rectangle(12, 11, 14, 18),
    ring_half(11, 18, 3, 1, "below"),
    rectangle(8, 16.5, 10, 18),
)
LETTER_B: tuple[Shape, ...] = (
    rectangle(16, 11, 18, 21),
    rectangle(16, 11, 21, 13),
    rectangle(16, 15, 21, 17),
    rectangle(16, 19, 21, 21),
    ring_half(21, 14, 3, 1, "right"),
    ring_half(21, 18, 3, 1, "right"),
)


def in_mark(x: float, y: float) -> bool:
    """Whether a design-square point is on the ticket (not in a notch, not in a letter)."""
    if not any(shape(x, y) for shape in TICKET):
        return False
    return not any(shape(x, y) for shape in (*NOTCHES, *LETTER_J, *LETTER_B))


def mark_coverage(size: int, samples: int) -> list[list[float]]:
    """The share (0 to 1) of each pixel covered by the mark, at samples x samples per pixel."""
    scale = GRID / size
    offsets = [(index + 0.5) / samples for index in range(samples)]
    coverage: list[list[float]] = []
    for row in range(size):
        line: list[float] = []
        for column in range(size):
            hits = sum(in_mark((column + dx) * scale, (row + dy) * scale) for dy in offsets for dx in offsets)
            line.append(hits / samples**2)
        coverage.append(line)
    return coverage


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """'#RRGGBB' to an (r, g, b) tuple."""
    value = color.removeprefix("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def draw_color_icon() -> list[list[tuple[int, int, int]]]:
    """The 192x192 color icon as RGB rows: a white ticket with "JB" on the accent color."""
    red, green, blue = hex_to_rgb(ACCENT_COLOR)

    def toward_white(channel: int, share: float) -> int:
        """A background channel blended toward white by the mark's share of the pixel."""
        return round(channel + (255 - channel) * share)

    return [
        [(toward_white(red, share), toward_white(green, share), toward_white(blue, share)) for share in line]
        for line in mark_coverage(COLOR_SIZE, COLOR_SUPERSAMPLING)
    ]


def draw_outline_icon() -> list[list[tuple[int, int, int, int]]]:
    """The 32x32 outline icon as RGBA rows: opaque white where the mark is, else transparent."""
    return [
        [(255, 255, 255, 255) if share >= 0.5 else (255, 255, 255, 0) for share in line]
        for line in mark_coverage(OUTLINE_SIZE, 1)
    ]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rows: Sequence[Sequence[tuple[int, ...]]]) -> bytes:
    """Encode 8-bit RGB or RGBA rows (all the same width) as a PNG file."""
    height = len(rows)
    width = len(rows[0])
    channels = len(rows[0][0])
    color_type = {3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes(channel for pixel in row for channel in pixel) for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


def write_icons(directory: Path = ICON_DIR) -> tuple[Path, Path]:
    """Draw both icons and write them into directory; returns (color path, outline path)."""
    color_path = directory / COLOR_ICON
    outline_path = directory / OUTLINE_ICON
    color_path.write_bytes(encode_png(draw_color_icon()))
    outline_path.write_bytes(encode_png(draw_outline_icon()))
    logger.info("wrote %s and %s", color_path, outline_path)
    return color_path, outline_path


def main() -> int:
    """Redraw color.png and outline.png in the manifest folder."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    color_path, outline_path = write_icons()
    sys.stdout.write(f"Drew {color_path.name} and {outline_path.name} in {color_path.parent}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
