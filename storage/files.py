"""The embedded store's files: journal records, the checksummed snapshot, the manifest, atomic writes.

Files in a data directory (all created with mode 0o600, the directory with 0o700):

- ``snapshot.json``: TinyDB JSON (``tinydb.TinyDB(path)`` opens it). Each table is a TinyDB table
  whose document ids are positions (1, 2, ...); the table ``__engine__`` holds one document, written
  first: ``crc32`` (the CRC32, 8 hex digits, of every byte of the file after those 8 digits), the
  format version, the journal generation that follows the snapshot and, per table, the keys by
  position. Snapshots of format 1 (before the checksum) are still read.
- ``journal.<generation>.log``: one self-checking record per write,
  ``<payload length, 8 hex> <CRC32 of payload, 8 hex> <payload JSON>\\n``. The first record is a
  header, ``{"journal": <generation>}``, written with the file (temp file, fsync, rename), so a
  journal is never empty and never carries another generation's name. (Journals written before the
  header have none; they are still read.)
- ``manifest.json``: which snapshot (journal generation, size, checksum) and which journal
  generations (each with a size known to be durable) the directory must hold, with its own CRC32.
  Rewritten atomically when a journal generation is created, after each snapshot and at open.
- ``LOCK``: kept for older versions of the bot, which lock it; this one locks the directory itself.
- ``*.dropped``: bytes set aside by a start with recovery, for a person to inspect.

Nothing here logs or raises record contents: errors name files, offsets and errno names only.
"""

from __future__ import annotations

import errno as errno_names
import json
import os
import re
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

Doc = dict[str, Any]

META_TABLE: Final = "__engine__"
SNAPSHOT_NAME: Final = "snapshot.json"
SNAPSHOT_FORMAT: Final = 3
ONE_LINE_SNAPSHOT_FORMAT: Final = 2  # checksummed, but on one line: read whole; still read
UNCHECKED_SNAPSHOT_FORMAT: Final = 1  # written before snapshots carried a checksum; still read
MANIFEST_NAME: Final = "manifest.json"
MANIFEST_FORMAT: Final = 1
LOCK_NAME: Final = "LOCK"
PROBE_NAME: Final = "probe.tmp"
TEMP_SUFFIX: Final = ".tmp"
DROPPED_SUFFIX: Final = ".dropped"
JOURNAL_RE: Final = re.compile(r"^journal\.(\d+)\.log$")
RECORD_HEADER_LEN: Final = 18  # "%08x %08x "
FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700
_SNAPSHOT_HEAD: Final = b'{"' + META_TABLE.encode() + b'": {"1": {"crc32": "'
_CRC_END: Final = len(_SNAPSHOT_HEAD) + 8
_CHUNK: Final = 1 << 20  # snapshot bytes encoded and checksummed at a time
_YIELD_EVERY: Final = 100  # snapshot docs serialized between GIL hand-offs


class Unreadable(Exception):
    """A file's bytes are not what this engine writes: where (byte offset) and what is wrong."""

    def __init__(self, offset: int | None, what: str) -> None:
        super().__init__(what)
        self.offset = offset
        self.what = what


# ---- small file operations ------------------------------------------------------------------------------


def journal_name(generation: int) -> str:
    """The file name of the journal of ``generation``."""
    return f"journal.{generation}.log"


def errno_name(exc: BaseException) -> str:
    """A short, content-free name for an OS error (``ENOSPC``), for logs and health checks."""
    code = getattr(exc, "errno", None)
    if isinstance(code, int):
        return errno_names.errorcode.get(code, str(code))
    return type(exc).__name__


def fsync_dir(path: Path) -> None:
    """Make renames, creations and deletions inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_private(path: Path, flags: int) -> int:
    """Open ``path`` with ``flags``, creating it with mode 0o600 whatever the umask."""
    fd = os.open(path, flags | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_atomically(data_dir: Path, name: str, data: bytes) -> None:
    """Replace ``name`` in ``data_dir`` with ``data``: temp file, fsync, rename, fsync of the directory.

    Raises OSError (the temp file is then removed).
    """
    tmp = data_dir / (name + TEMP_SUFFIX)
    try:
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, data_dir / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(data_dir)


def aside_name(data_dir: Path, name: str, offset: int) -> str:
    """A free name for bytes of ``name`` from ``offset`` on that are set aside: ``<name>.<offset>.dropped``."""
    candidate = f"{name}.{offset}{DROPPED_SUFFIX}"
    n = 1
    while (data_dir / candidate).exists():
        candidate = f"{name}.{offset}.{n}{DROPPED_SUFFIX}"
        n += 1
    return candidate


# ---- journal records --------------------------------------------------------------------------------------


def encode_record(payload: bytes) -> bytes:
    """Frame one journal payload as a self-checking line (length, CRC32, payload, newline)."""
    return b"%08x %08x " % (len(payload), zlib.crc32(payload)) + payload + b"\n"


def journal_header(generation: int) -> bytes:
    """The first record of the journal of ``generation``."""
    return encode_record(b'{"journal":%d}' % generation)


def header_generation(payload: bytes) -> int | None:
    """The generation a header record names, or None if ``payload`` is not a header (a write's ops)."""
    if not payload.startswith(b"{"):
        return None
    try:
        header = json.loads(payload)
        generation = header["journal"]
    except (ValueError, KeyError, TypeError):
        return -1
    return generation if isinstance(generation, int) and len(header) == 1 else -1


def decode_records(data: bytes) -> tuple[list[bytes], int, int]:
    """Split journal bytes into payloads up to the first bad record.

    Returns the payloads, the length of the valid prefix, and how many intact records follow the
    first bad one (0 for a plain torn tail). Never raises.
    """
    payloads: list[bytes] = []
    pos = 0
    while pos < len(data):
        payload = _record_at(data, pos)
        if payload is None:
            return payloads, pos, _records_after(data, pos)
        payloads.append(payload)
        pos += RECORD_HEADER_LEN + len(payload) + 1
    return payloads, pos, 0


def _record_at(data: bytes, pos: int) -> bytes | None:
    """The payload of the record starting at ``pos``, or None if it is incomplete or damaged."""
    header = data[pos : pos + RECORD_HEADER_LEN]
    if len(header) < RECORD_HEADER_LEN or header[8:9] != b" " or header[17:18] != b" ":
        return None
    try:
        length = int(header[0:8], 16)
        crc = int(header[9:17], 16)
    except ValueError:
        return None
    start = pos + RECORD_HEADER_LEN
    end = start + length
    if end >= len(data) or data[end : end + 1] != b"\n":
        return None
    payload = data[start:end]
    if zlib.crc32(payload) != crc:
        return None
    return payload


def _records_after(data: bytes, pos: int) -> int:
    """How many intact records start right after a line break following ``pos``."""
    found = 0
    nl = data.find(b"\n", pos)
    while nl != -1 and nl + 1 < len(data):
        if _record_at(data, nl + 1) is not None:
            found += 1
        nl = data.find(b"\n", nl + 1)
    return found


# ---- the snapshot ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotEntry:
    """What the manifest records of a snapshot: the journal generation after it, its size and checksum.

    ``format`` is the snapshot's own format (not recorded in the manifest).
    """

    generation: int
    size: int
    crc32: str
    format: int = field(default=SNAPSHOT_FORMAT, compare=False)

    def as_json(self) -> dict[str, Any]:
        """The manifest's form of this entry."""
        return {"generation": self.generation, "size": self.size, "crc32": self.crc32}


class _ChecksummedOut:
    """A text sink for the snapshot: ASCII into a binary file, with the CRC32 of every byte written."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._parts: list[str] = []
        self._pending = 0
        self.crc = 0
        self.size = 0

    def write(self, text: str) -> None:
        """Buffer ``text``; encode, checksum and write once a chunk is full."""
        self._parts.append(text)
        self._pending += len(text)
        if self._pending >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        """Encode, checksum and write what is buffered."""
        data = "".join(self._parts).encode("ascii")
        self._parts.clear()
        self._pending = 0
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self._raw.write(data)


def write_snapshot_file(
    data_dir: Path, tables: Mapping[str, Mapping[str, Doc | str]], generation: int
) -> SnapshotEntry:
    """Write ``tables`` as ``snapshot.json`` (TinyDB JSON with its checksum) atomically; what it wrote.

    A doc given as text (a packed table's, ``storage.documents.pack``) is written as it is.
    Temp file, fsync, rename, fsync of the directory. Raises OSError (the temp file is then removed).
    """
    path = data_dir / SNAPSHOT_NAME
    tmp = data_dir / (SNAPSHOT_NAME + TEMP_SUFFIX)
    try:
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with open(fd, "wb", buffering=_CHUNK) as raw:
            raw.write(_SNAPSHOT_HEAD + b"00000000")  # the checksum, filled in once every byte after it is known
            out = _ChecksummedOut(raw)
            _write_snapshot_body(out, tables, generation)
            out.flush()
            raw.flush()
            crc = b"%08x" % out.crc
            os.pwrite(raw.fileno(), crc, len(_SNAPSHOT_HEAD))
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(data_dir)
    return SnapshotEntry(generation, _CRC_END + out.size, crc.decode())


def _write_snapshot_body(out: _ChecksummedOut, tables: Mapping[str, Mapping[str, Doc | str]], generation: int) -> None:
    """Everything after the checksum: the rest of the meta document, then every table as TinyDB JSON.

    One line for the meta document, one for each table's opening, one per document and one for each
    closing brace: a reader parses one document at a time and never holds the file's text whole.
    """
    keys = {name: list(docs) for name, docs in tables.items() if docs}
    meta = {"format": SNAPSHOT_FORMAT, "journal_generation": generation, "keys": keys}
    out.write('", ' + json.dumps(meta)[1:] + "}\n")
    for name, docs in tables.items():
        if not docs:
            continue
        out.write(", %s: {\n" % json.dumps(name))
        for position, doc in enumerate(docs.values(), start=1):
            text = doc if isinstance(doc, str) else json.dumps(doc)
            out.write('%s"%d": %s\n' % (", " if position > 1 else "", position, text))
            if position % _YIELD_EVERY == 0:
                time.sleep(0)  # let the event loop's thread take the GIL: writers stay quick
        out.write("}\n")
    out.write("}\n")


def read_snapshot(
    path: Path, *, checked: bool = True, packed: frozenset[str] = frozenset()
) -> tuple[dict[str, dict[str, Any]], SnapshotEntry]:
    """Load a snapshot file into tables; return them and the snapshot's manifest entry.

    The checksum of a snapshot of format 2 or later is verified unless ``checked`` is False (a
    recovery keeping what still parses). A format-1 snapshot has none; its entry's checksum is the
    CRC32 of the whole file. A snapshot of the current format is read a line, so one document, at a
    time (its text is never held whole: that would double the memory a start needs at its peak);
    older ones, written on one line, are read whole. A checked snapshot's tables named in ``packed``
    keep each doc as its text, unparsed (``storage.documents.WorkingSet`` keeps them so). Raises Unreadable, naming the byte offset
    where the damage is when it is known; OSError.
    """
    with path.open("rb") as file:
        first = file.readline()
        if first.startswith(_SNAPSHOT_HEAD) and file.peek(1):
            return _read_lines(file, first, checked=checked, packed=packed if checked else frozenset())
        del first
        file.seek(0)
        return _read_one_line_snapshot(file.read(), checked=checked)


def _read_lines(
    file: BinaryIO, first: bytes, *, checked: bool, packed: frozenset[str]
) -> tuple[dict[str, dict[str, Any]], SnapshotEntry]:
    """A snapshot of the current format, from its first line on (see ``_write_snapshot_body``)."""
    recorded = first[len(_SNAPSHOT_HEAD) : _CRC_END]
    crc = zlib.crc32(memoryview(first)[_CRC_END:])
    offset = len(first)
    try:
        meta = json.loads(b'{"crc32": "' + first[len(_SNAPSHOT_HEAD) :].rstrip()[:-1])
        if meta["format"] != SNAPSHOT_FORMAT:
            raise ValueError(f"its format is {meta['format']!r}, expected {SNAPSHOT_FORMAT}")
        generation = int(meta["journal_generation"])
        keys: dict[str, list[str]] = meta["keys"]
    except (ValueError, KeyError, TypeError) as exc:
        raise Unreadable(0, f"its first line is not a snapshot's meta document ({type(exc).__name__})") from None
    tables: dict[str, dict[str, Any]] = {}
    table: dict[str, Any] | None = None
    table_keys: list[str] = []
    as_text = False
    batch = _Batch()
    ended = False
    for line in file:
        crc = zlib.crc32(line, crc)
        text = line.strip()
        try:
            if ended:
                raise ValueError("text after the end")
            if table is None and text == b"}":
                ended = True
            elif table is None:
                name = json.loads(text.removeprefix(b", ").removesuffix(b": {"))
                table, table_keys, as_text = tables.setdefault(name, {}), keys[name], name in packed
            elif text == b"}":
                batch.parse_into(table, table_keys)
                if len(table) != len(table_keys):
                    raise ValueError("the key list and the documents differ in length")
                table = None
            else:
                position, _, doc = text.removeprefix(b", ").partition(b": ")
                if as_text:
                    table[table_keys[int(json.loads(position)) - 1]] = doc.decode("ascii")
                else:
                    batch.add(int(json.loads(position)), doc, offset)
                    if len(batch.docs) >= _PARSE_TOGETHER:
                        batch.parse_into(table, table_keys)
        except _BadDocument as bad:
            raise Unreadable(bad.offset, "a document there is not valid JSON") from None
        except (ValueError, KeyError, TypeError, IndexError) as exc:  # UnicodeDecodeError is a ValueError
            raise Unreadable(offset, f"it is not a snapshot this engine wrote there ({type(exc).__name__})") from None
        offset += len(line)
    if not ended:
        raise Unreadable(offset, "it ends before its last table does")
    crc_text = b"%08x" % crc
    if checked and crc_text != recorded:
        raise Unreadable(
            _CRC_END,
            f"its checksum does not match bytes {_CRC_END} to {offset} "
            f"(crc32 {crc_text.decode()}, recorded {recorded.decode('ascii', 'replace')})",
        )
    return tables, SnapshotEntry(generation, offset, crc_text.decode(), SNAPSHOT_FORMAT)


_PARSE_TOGETHER: Final = 1000
"""Documents parsed by one ``json.loads``: it shares the key strings among the documents it parses."""


class _BadDocument(Exception):
    def __init__(self, offset: int) -> None:
        self.offset = offset


class _Batch:
    """Document lines waiting to be parsed together (one ``json.loads`` per thousand, not per document)."""

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.docs: list[bytes] = []
        self.offsets: list[int] = []

    def add(self, position: int, doc: bytes, offset: int) -> None:
        self.positions.append(position)
        self.docs.append(doc)
        self.offsets.append(offset)

    def parse_into(self, table: dict[str, Doc], keys: list[str]) -> None:
        """Parse the waiting documents into ``table`` under their keys; raises _BadDocument naming the first bad one."""
        if not self.docs:
            return
        try:
            parsed = json.loads(b"[" + b",".join(self.docs) + b"]")
            if len(parsed) != len(self.docs):
                raise ValueError("a line held more than one document")
        except ValueError:
            for doc, offset in zip(self.docs, self.offsets, strict=True):
                try:
                    json.loads(doc)
                except ValueError:
                    raise _BadDocument(offset) from None
            raise _BadDocument(self.offsets[0]) from None
        for position, doc in zip(self.positions, parsed, strict=True):
            table[keys[position - 1]] = doc
        self.positions, self.docs, self.offsets = [], [], []


def _read_one_line_snapshot(data: bytes, *, checked: bool) -> tuple[dict[str, dict[str, Doc]], SnapshotEntry]:
    """A snapshot of format 1 or 2, read whole; the bytes are let go before its JSON is parsed."""
    size = len(data)
    if data.startswith(_SNAPSHOT_HEAD):
        recorded = data[len(_SNAPSHOT_HEAD) : _CRC_END]
        crc = b"%08x" % zlib.crc32(memoryview(data)[_CRC_END:])
        if checked and crc != recorded:
            raise Unreadable(
                _CRC_END,
                f"its checksum does not match bytes {_CRC_END} to {size} "
                f"(crc32 {crc.decode()}, recorded {recorded.decode('ascii', 'replace')})",
            )
        expected_format = ONE_LINE_SNAPSHOT_FORMAT
    else:
        crc = b"%08x" % zlib.crc32(data)
        expected_format = UNCHECKED_SNAPSHOT_FORMAT
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise Unreadable(exc.start, "it holds bytes that are not ASCII") from None
    del data
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unreadable(exc.pos, "it is not valid JSON there") from None
    del text
    try:
        meta = raw.pop(META_TABLE)["1"]
        if meta["format"] != expected_format:
            raise ValueError(f"its format is {meta['format']!r}, expected {expected_format}")
        generation = int(meta["journal_generation"])
        tables: dict[str, dict[str, Doc]] = {}
        for name, docs in raw.items():
            table_keys = meta["keys"][name]
            if len(table_keys) != len(docs):
                raise ValueError(f"table {name!r}: key list and documents differ in length")
            tables[name] = {table_keys[int(doc_id) - 1]: doc for doc_id, doc in docs.items()}
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise Unreadable(None, f"it is not a snapshot this engine wrote ({type(exc).__name__})") from None
    return tables, SnapshotEntry(generation, size, crc.decode(), expected_format)


# ---- the manifest ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveEntry:
    """What the manifest records of a year's archive: its generation, size, checksum and how many bundles."""

    year: int
    generation: int
    size: int
    crc32: str
    bundles: int

    def as_json(self) -> dict[str, Any]:
        """The manifest's form of this entry."""
        return {
            "year": self.year,
            "generation": self.generation,
            "size": self.size,
            "crc32": self.crc32,
            "bundles": self.bundles,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ArchiveEntry:
        """The entry in the manifest's form. Raises KeyError, TypeError, ValueError."""
        return cls(int(raw["year"]), int(raw["generation"]), int(raw["size"]), str(raw["crc32"]), int(raw["bundles"]))


@dataclass(frozen=True)
class Listing:
    """What the manifest says the directory holds: the snapshot, per journal generation a durable size, the archives by year."""

    snapshot: SnapshotEntry | None
    journals: Mapping[int, int]
    archives: Mapping[int, ArchiveEntry] = field(default_factory=dict)


def manifest_bytes(listing: Listing) -> bytes:
    """The manifest file for ``listing``, with the CRC32 of its canonical JSON."""
    body = _manifest_body(listing)
    crc = "%08x" % zlib.crc32(_canonical(body))
    return json.dumps({"crc32": crc, **body}, indent=1).encode() + b"\n"


def _manifest_body(listing: Listing) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "snapshot": None if listing.snapshot is None else listing.snapshot.as_json(),
        "journals": [
            {"name": journal_name(g), "generation": g, "size": size} for g, size in sorted(listing.journals.items())
        ],
        "archives": [entry.as_json() for _, entry in sorted(listing.archives.items())],
    }


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def read_manifest(data: bytes) -> Listing:
    """Parse and check manifest bytes. Raises Unreadable."""
    try:
        raw = json.loads(data)
        recorded = raw.pop("crc32")
    except (ValueError, AttributeError, KeyError, TypeError):
        raise Unreadable(0, "it is not a manifest this engine wrote") from None
    if recorded != "%08x" % zlib.crc32(_canonical(raw)):
        raise Unreadable(0, "its checksum does not match its contents")
    try:
        if raw["format"] != MANIFEST_FORMAT:
            raise ValueError(raw["format"])
        snapshot = raw["snapshot"]
        entry = None if snapshot is None else SnapshotEntry(snapshot["generation"], snapshot["size"], snapshot["crc32"])
        journals = {int(item["generation"]): int(item["size"]) for item in raw["journals"]}
        archives = {item["year"]: ArchiveEntry.from_json(item) for item in raw.get("archives", [])}
    except (ValueError, KeyError, TypeError) as exc:
        raise Unreadable(0, f"it is not a manifest this engine wrote ({type(exc).__name__})") from None
    return Listing(entry, journals, archives)


class Manifest:
    """``manifest.json`` kept up to date by the store's threads (journal creation, snapshots).

    Every change rewrites the file atomically before it returns; a lock keeps the journal thread's
    and the snapshot thread's rewrites apart. A failed rewrite raises OSError and changes nothing.
    """

    def __init__(self, data_dir: Path, listing: Listing) -> None:
        self._dir = data_dir
        self._listing = listing
        self._lock = threading.Lock()

    @property
    def listing(self) -> Listing:
        """What the file says now."""
        return self._listing

    def add_journal(self, generation: int, size: int) -> None:
        """List a journal generation that now exists with ``size`` durable bytes (no-op if listed)."""
        if generation in self._listing.journals:
            return
        with self._lock:
            if generation in self._listing.journals:
                return
            listing = self._listing
            self._write(Listing(listing.snapshot, {**listing.journals, generation: size}, listing.archives))

    def snapshot_written(self, entry: SnapshotEntry, durable: tuple[int, int]) -> None:
        """A snapshot now holds every journal before ``entry.generation``; ``durable`` is (generation, size)."""
        with self._lock:
            journals = {g: s for g, s in self._listing.journals.items() if g >= entry.generation}
            generation, size = durable
            if generation in journals:
                journals[generation] = max(journals[generation], size)
            self._write(Listing(entry, journals, self._listing.archives))

    def archives_written(self, entries: Mapping[int, ArchiveEntry | None]) -> None:
        """Name these archives from now on (None: that year's archive holds nothing any more)."""
        with self._lock:
            listing = self._listing
            archives = {**listing.archives, **{y: e for y, e in entries.items() if e is not None}}
            for year in [y for y, e in entries.items() if e is None]:
                archives.pop(year, None)
            self._write(Listing(listing.snapshot, listing.journals, archives))

    def write(self, listing: Listing) -> None:
        """Replace the listing (at open)."""
        with self._lock:
            self._write(listing)

    def _write(self, listing: Listing) -> None:
        write_atomically(self._dir, MANIFEST_NAME, manifest_bytes(listing))
        self._listing = listing
