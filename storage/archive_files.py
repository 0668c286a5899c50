"""The embedded store's archive files: one TinyDB file per year, with an index of its bundles' keys beside it.

``archive-<year>.<generation>.json`` is TinyDB JSON (``tinydb.TinyDB(path, access_mode="r")``
opens it): the table ``__archive__`` holds one document (the year and the format), the table
``bundles`` one document per archived bundle (``storage.documents.Bundle.as_json``: its key, its
year and its documents), one per line. ``archive-<year>.<generation>.index`` holds, sorted, the
64-bit hash of each bundle's key with the byte offset of its line: memory keeps these 16 bytes a
bundle (7 MB for ten years of tickets), and reading one bundle back is one seek and one line.

A year's archive is never changed in place. Archiving more of a year writes the next generation
whole (the old bundles' lines copied as they are, minus those archived again, then the new ones),
both files fsynced, before ``manifest.json`` names it; the old generation is deleted after.
Copying never parses the old lines: memory stays flat however big a year grows.

Nothing here logs or raises record contents: errors name files and offsets only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Final

from storage.documents import Bundle
from storage.files import TEMP_SUFFIX, ArchiveEntry, Unreadable, fsync_dir, open_private

ARCHIVE_FORMAT: Final = 1
ARCHIVE_RE: Final = re.compile(r"^archive-(\d{4})\.(\d+)\.(json|index)$")
_KEY_RE: Final = re.compile(rb'^(?:, )?"\d+": \{"key":("(?:[^"\\]|\\.)*")')
_INDEX_HEAD: Final = b"JB-ARCHIVE-INDEX 1\n"
_CHUNK: Final = 1 << 20


def archive_name(year: int, generation: int) -> str:
    """The archive file of ``year``'s ``generation``."""
    return f"archive-{year:04d}.{generation}.json"


def index_name(year: int, generation: int) -> str:
    """The index file beside that archive file."""
    return f"archive-{year:04d}.{generation}.index"


def key_hash(key: str) -> int:
    """The signed 64-bit hash an index sorts a bundle's key by."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little", signed=True)


class YearIndex:
    """A year's bundle keys as sorted hashes, each with the byte offset of its bundle's line."""

    def __init__(self, hashes: array[int], offsets: array[int]) -> None:
        self.hashes = hashes
        self.offsets = offsets

    def offsets_of(self, key: str) -> list[int]:
        """The offsets of the lines that may hold ``key`` (a hash can be shared; the line says)."""
        wanted = key_hash(key)
        found: list[int] = []
        position = bisect_left(self.hashes, wanted)
        while position < len(self.hashes) and self.hashes[position] == wanted:
            found.append(self.offsets[position])
            position += 1
        return found

    def __len__(self) -> int:
        return len(self.hashes)


def _bundle_line(position: int, bundle: Bundle) -> bytes:
    text = json.dumps(bundle.as_json(), separators=(",", ":"))
    return b'%s"%d": %s\n' % (b", " if position > 1 else b"", position, text.encode("ascii"))


def _head(year: int) -> bytes:
    meta = json.dumps({"year": year, "format": ARCHIVE_FORMAT})
    return b'{"__archive__": {"1": %s}, "bundles": {\n' % meta.encode("ascii")


_TAIL: Final = b"}}\n"


def line_key(line: bytes) -> str:
    """The key of the bundle on one line of an archive file. Raises ValueError."""
    match = _KEY_RE.match(line)
    if match is None:
        raise ValueError("not a bundle line")
    return str(json.loads(match.group(1)))


def parse_line(line: bytes) -> Bundle:
    """The bundle on one line of an archive file. Raises ValueError, KeyError, TypeError."""
    _, _, doc = line.strip().removeprefix(b", ").partition(b": ")
    return Bundle.from_json(json.loads(doc))


def bundle_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of every bundle line of an archive file, in order. Raises OSError, Unreadable."""
    with path.open("rb") as file:
        head = file.readline()
        if not head.startswith(b'{"__archive__": '):
            raise Unreadable(0, "it is not an archive this engine wrote")
        offset = len(head)
        for line in file:
            if line == _TAIL:
                return
            yield offset, line
            offset += len(line)
    raise Unreadable(offset, "it ends before its last bundle does")


def write_year(
    data_dir: Path,
    year: int,
    generation: int,
    old: ArchiveEntry | None,
    drop: Collection[str],
    add: Sequence[Bundle],
) -> tuple[ArchiveEntry | None, YearIndex]:
    """Write the next generation of ``year``'s archive: the old one's bundles but those in ``drop``, then ``add``.

    Both files are written under temporary names, fsynced and renamed, then the directory is
    fsynced; the manifest must name the entry before the bundles count as archived. Returns the
    entry and its index, or (None, an empty index) when the year holds nothing any more (no file is
    written). Raises OSError, Unreadable (the old file is not what the manifest says).
    """
    name, index = archive_name(year, generation), index_name(year, generation)
    tmp, index_tmp = data_dir / (name + TEMP_SUFFIX), data_dir / (index + TEMP_SUFFIX)
    pairs: list[tuple[int, int]] = []
    try:
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with open(fd, "wb", buffering=_CHUNK) as out:
            head = _head(year)
            out.write(head)
            crc, offset, position = zlib.crc32(head), len(head), 0
            if old is not None:
                for _, line in bundle_lines(data_dir / archive_name(year, old.generation)):
                    key = line_key(line)
                    if key in drop:
                        continue
                    position += 1
                    renumbered = b'%s"%d": %s' % (b", " if position > 1 else b"", position, line.split(b": ", 1)[1])
                    pairs.append((key_hash(key), offset))
                    out.write(renumbered)
                    crc, offset = zlib.crc32(renumbered, crc), offset + len(renumbered)
            for bundle in add:
                position += 1
                line = _bundle_line(position, bundle)
                pairs.append((key_hash(bundle.key), offset))
                out.write(line)
                crc, offset = zlib.crc32(line, crc), offset + len(line)
            out.write(_TAIL)
            crc, offset = zlib.crc32(_TAIL, crc), offset + len(_TAIL)
            out.flush()
            os.fsync(out.fileno())
        if position == 0:
            tmp.unlink()
            return None, YearIndex(array("q"), array("q"))
        pairs.sort()
        year_index = YearIndex(array("q", (h for h, _ in pairs)), array("q", (o for _, o in pairs)))
        write_index(index_tmp, year_index)
        os.replace(tmp, data_dir / name)
        os.replace(index_tmp, data_dir / index)
    except BaseException:
        tmp.unlink(missing_ok=True)
        index_tmp.unlink(missing_ok=True)
        raise
    fsync_dir(data_dir)
    return ArchiveEntry(year, generation, offset, "%08x" % crc, position), year_index


def write_index(path: Path, year_index: YearIndex) -> None:
    """Write an index file (and fsync it). Raises OSError."""
    fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with open(fd, "wb") as out:
        out.write(_INDEX_HEAD + b"%d\n" % len(year_index))
        out.write(year_index.hashes.tobytes())
        out.write(year_index.offsets.tobytes())
        out.flush()
        os.fsync(out.fileno())


def read_index(data_dir: Path, entry: ArchiveEntry) -> YearIndex:
    """The index of the archive ``entry`` names; rebuilt from the archive itself if missing or not whole.

    Raises OSError, Unreadable.
    """
    path = data_dir / index_name(entry.year, entry.generation)
    try:
        data = path.read_bytes()
        head, _, rest = data.partition(b"\n")
        count_text, _, body = rest.partition(b"\n")
        count = int(count_text)
        if head + b"\n" == _INDEX_HEAD and count == entry.bundles and len(body) == 16 * count:
            hashes, offsets = array("q"), array("q")
            hashes.frombytes(body[: 8 * count])
            offsets.frombytes(body[8 * count :])
            return YearIndex(hashes, offsets)
    except (OSError, ValueError):
        pass
    pairs = sorted(
        (key_hash(line_key(line)), offset)
        for offset, line in bundle_lines(data_dir / archive_name(entry.year, entry.generation))
    )
    year_index = YearIndex(array("q", (h for h, _ in pairs)), array("q", (o for _, o in pairs)))
    tmp = data_dir / (index_name(entry.year, entry.generation) + TEMP_SUFFIX)
    write_index(tmp, year_index)
    os.replace(tmp, path)
    fsync_dir(data_dir)
    return year_index


def found_entry(data_dir: Path, year: int, generation: int) -> ArchiveEntry:
    """The manifest entry of an archive file found on disk when no manifest names it: its size, checksum, bundles.

    For a start whose manifest was lost: the file was whole before any manifest could name it
    (``write_year`` renames it only once fsynced). Raises OSError, Unreadable.
    """
    path = data_dir / archive_name(year, generation)
    crc, size = 0, 0
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
    bundles = sum(1 for _ in bundle_lines(path))
    return ArchiveEntry(year, generation, size, "%08x" % crc, bundles)


def read_bundle(data_dir: Path, entry: ArchiveEntry, offset: int) -> Bundle:
    """The bundle whose line starts at ``offset`` in the archive ``entry`` names. Raises OSError, Unreadable."""
    name = archive_name(entry.year, entry.generation)
    with (data_dir / name).open("rb") as file:
        file.seek(offset)
        line = file.readline()
    try:
        return parse_line(line)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Unreadable(offset, f"{name} holds no bundle there") from None
