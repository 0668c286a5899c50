"""Opening a data directory: lock it, check its files against the manifest, rebuild the last committed state.

The directory itself is locked (``flock`` on a descriptor of the directory, held for the store's
life), so a second process is refused even if someone deletes ``LOCK``; ``LOCK`` is locked too,
for older versions of the bot that only know that file.

Recovery loads the snapshot and replays, in order, every journal whose generation is at least the
one the snapshot names. A torn last record of the newest journal (a crash in the middle of an
append) is dropped with a warning. Anything else is damage, and opening stops with
``StorageDamaged`` naming the file, the byte offset and what to do:

- a record that fails its check with intact records after it, or a torn record in any journal but
  the newest, or one inside the part of a journal the manifest recorded as durable;
- a record that passes its checksum but cannot be understood, a journal header naming another
  generation;
- a snapshot whose checksum does not match, that does not parse, or that is older than, or
  different from, the one the manifest lists;
- a file the manifest lists that is missing or shorter than recorded, a missing generation between
  two that exist, a missing or damaged manifest beside files written by this version.

With ``recover`` the store opens anyway: replay keeps the consistent prefix up to the first damage,
the bytes after it (and every later journal, and a damaged snapshot) are set aside in ``.dropped``
files, the recovered state is written as a fresh snapshot with a new manifest, and the store
reports what it set aside (``Store.recovered``, shown by ``GET /healthz``). A damaged snapshot whose
JSON still parses is loaded as it is (a copy is set aside); one that does not parse, or a missing
one, leaves only what the journals hold.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.archive_files import ARCHIVE_RE, YearIndex, archive_name, found_entry, index_name, read_index
from storage.errors import StorageDamaged, StorageError, StorageUnavailable
from storage.files import (
    DIR_MODE,
    JOURNAL_RE,
    LOCK_NAME,
    MANIFEST_NAME,
    RECORD_HEADER_LEN,
    SNAPSHOT_FORMAT,
    SNAPSHOT_NAME,
    TEMP_SUFFIX,
    ArchiveEntry,
    Doc,
    Listing,
    Manifest,
    SnapshotEntry,
    Unreadable,
    aside_name,
    decode_records,
    errno_name,
    fsync_dir,
    header_generation,
    journal_name,
    open_private,
    read_manifest,
    read_snapshot,
    write_all,
    write_snapshot_file,
)

logger = logging.getLogger("storage.engine")


@dataclass
class Loaded:
    """What opening found: the tables, where appends continue, and what a recovery set aside."""

    tables: dict[str, dict[str, Doc]]
    snapshot_generation: int
    journal_generation: int
    journal_valid_size: int
    replayed: int
    manifest: Manifest
    recovered: str | None = None
    archives: dict[int, tuple[ArchiveEntry, YearIndex]] = field(default_factory=dict)


def lock_directory(data_dir: Path) -> list[int]:
    """Create the directory (mode 0o700) if missing and lock it for this process: the held descriptors.

    Raises StorageError if another process holds it, OSError if it cannot be created or opened.
    """
    if not data_dir.exists():
        data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(data_dir, DIR_MODE)
    held: list[int] = []
    try:
        for fd in (
            os.open(data_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC),
            open_private(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT),
        ):
            held.append(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StorageError(
                    f"the data directory {data_dir} is in use by another process ({errno_name(exc)})"
                ) from exc
    except BaseException:
        for fd in held:
            os.close(fd)
        raise
    return held


def open_directory(data_dir: Path, recover: bool, packed: frozenset[str] = frozenset()) -> tuple[list[int], Loaded]:
    """Lock ``data_dir`` and rebuild its last committed state (thread; blocking I/O).

    Raises StorageDamaged (see the module docstring), StorageError if the directory is in use,
    StorageUnavailable if it cannot be read or written (the file and the errno name say why).
    """
    try:
        held = lock_directory(data_dir)
    except OSError as exc:
        raise StorageUnavailable(f"cannot open the data directory {data_dir} ({errno_name(exc)})") from exc
    try:
        return held, _Opening(data_dir, recover, packed).load()
    except OSError as exc:
        name = Path(exc.filename).name if isinstance(exc.filename, str) else str(data_dir)
        for fd in held:
            os.close(fd)
        raise StorageUnavailable(f"cannot read or write {name} in {data_dir} ({errno_name(exc)})") from exc
    except BaseException:
        for fd in held:
            os.close(fd)
        raise


@dataclass
class _Opening:
    """One opening of a data directory: what it found, and (recovering) what it sets aside."""

    dir: Path
    recover: bool
    packed: frozenset[str]
    found: list[StorageDamaged] = field(default_factory=list)
    aside_whole: list[str] = field(default_factory=list)  # files renamed to .dropped when healing
    aside_written: list[str] = field(default_factory=list)  # .dropped files already written
    notes: list[str] = field(default_factory=list)

    def damage(self, file: str, offset: int | None, what: str) -> None:
        """Damage found: stop here, unless recovering (then remember it and go on)."""
        problem = StorageDamaged(file, offset, what)
        if not self.recover:
            raise problem
        logger.error("storage damage found (recovering): %s", problem.where_what)
        self.found.append(problem)

    # ------------------------------------------------------------------------------------------- load

    def load(self) -> Loaded:
        """Check and replay everything; heal when recovering from damage."""
        names = set(os.listdir(self.dir))
        for name in names:
            if name.endswith(TEMP_SUFFIX):  # a crash in the middle of an atomic write: never renamed
                (self.dir / name).unlink(missing_ok=True)
        names = {name for name in names if not name.endswith(TEMP_SUFFIX)}
        generations = sorted(int(m.group(1)) for name in names if (m := JOURNAL_RE.match(name)))
        listing = self._read_manifest(names)
        tables, snapshot, snapshot_generation = self._read_snapshot(names, listing, generations)
        listed = dict(listing.journals) if listing is not None else {}
        live = [g for g in generations if g >= snapshot_generation]
        cut = self._check_presence(snapshot_generation, live, listed)
        replayed, valid_sizes, headered = self._replay(tables, live, listed, cut)
        archives = self._archives(names, listing)
        if listing is None and MANIFEST_NAME not in names and (headered or _checked_format(snapshot)):
            self.damage(MANIFEST_NAME, None, "it is missing, though the files beside it were written with one")
        if self.found:
            return self._heal(tables, max([snapshot_generation, *generations]) + 1, replayed, archives)
        if self.recover:
            logger.warning("recovery was asked for, but nothing in %s is damaged: unset it", self.dir)
        stale = [g for g in generations if g < snapshot_generation]
        for generation in stale:
            try:
                (self.dir / journal_name(generation)).unlink()
            except OSError as exc:
                logger.warning("could not remove stale %s (%s)", journal_name(generation), errno_name(exc))
        current = Listing(snapshot, valid_sizes, {year: entry for year, (entry, _) in archives.items()})
        manifest = Manifest(self.dir, listing or Listing(None, {}))
        if (snapshot is not None or valid_sizes) and current != listing:
            manifest.write(current)
        journal_generation = live[-1] if live else snapshot_generation
        return Loaded(
            tables,
            snapshot_generation,
            journal_generation,
            valid_sizes.get(journal_generation, 0),
            replayed,
            manifest,
            archives=archives,
        )

    def _archives(self, names: set[str], listing: Listing | None) -> dict[int, tuple[ArchiveEntry, YearIndex]]:
        """The archives the manifest names, each with its index; files it does not name are left from a crash: removed.

        With no manifest (lost or damaged) nothing is removed: each year's newest archive on disk is
        kept. An archive that is missing or not the size the manifest recorded is damage (recovering,
        it is left out and its file, if any, set aside).
        """
        if listing is None:
            listed = self._unnamed_archives(names)
        else:
            listed = dict(listing.archives)
            wanted = {
                name
                for entry in listed.values()
                for name in (archive_name(entry.year, entry.generation), index_name(entry.year, entry.generation))
            }
            for name in sorted(names):
                if ARCHIVE_RE.match(name) and name not in wanted:
                    (self.dir / name).unlink(missing_ok=True)  # written by a pass that never reached the manifest
        found: dict[int, tuple[ArchiveEntry, YearIndex]] = {}
        for year, entry in sorted(listed.items()):
            name = archive_name(entry.year, entry.generation)
            if name not in names:
                self.damage(
                    name,
                    None,
                    f"it is missing, though manifest.json lists the archive of {year} ({entry.bundles} bundles)",
                )
                self.notes.append(f"started without the archive of {year}")
                continue
            size = (self.dir / name).stat().st_size
            if size != entry.size:
                self.damage(name, None, f"it is {size} bytes; manifest.json recorded {entry.size}")
                self.aside_whole.append(name)
                continue
            try:
                found[year] = (entry, read_index(self.dir, entry))
            except Unreadable as bad:
                self.damage(name, bad.offset, bad.what)
                self.aside_whole.append(name)
        return found

    def _unnamed_archives(self, names: set[str]) -> dict[int, ArchiveEntry]:
        """With no manifest to name them: each year's newest archive on disk, none deleted."""
        newest: dict[int, int] = {}
        for name in names:
            match = ARCHIVE_RE.match(name)
            if match and match.group(3) == "json":
                year, generation = int(match.group(1)), int(match.group(2))
                newest[year] = max(generation, newest.get(year, 0))
        found: dict[int, ArchiveEntry] = {}
        for year, generation in sorted(newest.items()):
            try:
                found[year] = found_entry(self.dir, year, generation)
            except Unreadable as bad:
                self.damage(archive_name(year, generation), bad.offset, bad.what)
        if found:
            self.notes.append(
                f"no manifest named the archives of {', '.join(map(str, found))}: each year's newest kept"
            )
        return found

    def _read_manifest(self, names: set[str]) -> Listing | None:
        """The manifest's listing, or None when there is none or it is damaged."""
        if MANIFEST_NAME not in names:
            return None
        try:
            return read_manifest((self.dir / MANIFEST_NAME).read_bytes())
        except Unreadable as bad:
            self.damage(MANIFEST_NAME, bad.offset, bad.what)
            self.aside_whole.append(MANIFEST_NAME)
            return None

    def _read_snapshot(
        self, names: set[str], listing: Listing | None, generations: list[int]
    ) -> tuple[dict[str, dict[str, Doc]], SnapshotEntry | None, int]:
        """The snapshot's tables, its manifest entry and the journal generation that follows it."""
        listed = listing.snapshot if listing is not None else None
        if SNAPSHOT_NAME not in names:
            if listed is not None:
                self.damage(
                    SNAPSHOT_NAME,
                    None,
                    f"it is missing, though manifest.json lists a snapshot of {listed.size} bytes "
                    f"(journal generation {listed.generation})",
                )
                self.notes.append("started without the missing snapshot: only what the journals hold")
                return {}, None, listed.generation
            return {}, None, 0
        try:
            tables, entry = read_snapshot(self.dir / SNAPSHOT_NAME, packed=self.packed)
        except Unreadable as bad:
            self.damage(SNAPSHOT_NAME, bad.offset, bad.what)
            self.aside_whole.append(SNAPSHOT_NAME)
            try:
                tables, entry = read_snapshot(self.dir / SNAPSHOT_NAME, checked=False)
            except Unreadable:
                self.notes.append("the damaged snapshot does not parse: only what the journals hold")
                fallback = listed.generation if listed is not None else (generations[0] if generations else 0)
                return {}, None, fallback
            self.notes.append("the damaged snapshot still parses and was loaded as it is")
            return tables, entry, entry.generation
        if listed is not None:
            if entry.generation < listed.generation:
                self.damage(
                    SNAPSHOT_NAME,
                    0,
                    f"it is followed by journal generation {entry.generation}, older than the "
                    f"generation {listed.generation} manifest.json lists",
                )
            elif entry.generation == listed.generation and (entry.size, entry.crc32) != (listed.size, listed.crc32):
                self.damage(
                    SNAPSHOT_NAME,
                    0,
                    f"it is {entry.size} bytes with checksum {entry.crc32}; manifest.json recorded "
                    f"{listed.size} bytes with checksum {listed.crc32}",
                )
        return tables, entry, entry.generation

    def _check_presence(self, snapshot_generation: int, live: list[int], listed: dict[int, int]) -> int | None:
        """The first journal generation that should be there and is not (everything from it is lost), or None."""
        present = set(live)
        top = max([*live, *(g for g in listed if g >= snapshot_generation)], default=None)
        if top is None:
            return None
        for generation in range(snapshot_generation, top + 1):
            if generation in present:
                continue
            later = [g for g in live if g > generation]
            if generation in listed:
                what = f"it is missing, though manifest.json lists it ({listed[generation]} bytes)"
            elif later:
                what = f"it is missing, though the later {journal_name(later[0])} exists"
            else:
                continue  # the current generation, not created yet: nothing was written to it
            self.damage(journal_name(generation), None, what)
            return generation
        return None

    def _replay(
        self, tables: dict[str, dict[str, Doc]], live: list[int], listed: dict[int, int], cut: int | None
    ) -> tuple[int, dict[int, int], bool]:
        """Replay the journals in order: records replayed, each journal's valid size, whether any had a header."""
        replayed = 0
        valid_sizes: dict[int, int] = {}
        headered = False
        for generation in live:
            name = journal_name(generation)
            if cut is not None and generation >= cut:
                self.aside_whole.append(name)
                continue
            data = (self.dir / name).read_bytes()
            payloads, valid, intact_after = decode_records(data)
            problem: tuple[int, str] | None = None
            first = 0
            if payloads and (named := header_generation(payloads[0])) is not None:
                headered = True
                first = 1
                if named != generation:
                    problem = (0, f"its header names generation {named}, not {generation}")
            durable = listed.get(generation, 0)
            if problem is None and valid != len(data):
                if intact_after:
                    problem = (valid, f"a record fails its check and {intact_after} intact records follow it")
                elif generation != live[-1]:
                    problem = (valid, "it ends in a torn record, but a later journal follows it")
                elif valid < durable:
                    problem = (valid, f"a record fails its check within the {durable} bytes recorded as durable")
                else:
                    logger.warning(
                        "dropped a torn last journal record (%d bytes at byte %d) in %s", len(data) - valid, valid, name
                    )
            elif problem is None and len(data) < durable:
                problem = (len(data), f"it is {len(data)} bytes, shorter than the {durable} recorded as durable")
            offset = 0
            for index, payload in enumerate(payloads):
                if problem is not None and offset >= problem[0]:
                    break
                if index >= first:
                    try:
                        _replay(tables, payload)
                    except StorageError:
                        problem = (offset, "a record passes its checksum but cannot be understood")
                        break
                    replayed += 1
                offset += RECORD_HEADER_LEN + len(payload) + 1
            if problem is not None:
                self.damage(name, problem[0], problem[1])
                if problem[0] < len(data):
                    self._keep(name, problem[0], data[problem[0] :])
                cut = generation + 1
                continue
            valid_sizes[generation] = valid
        return replayed, valid_sizes, headered

    def _keep(self, name: str, offset: int, tail: bytes) -> None:
        """Save the bytes of ``name`` from ``offset`` on in a .dropped file (fsynced). Raises OSError."""
        kept = aside_name(self.dir, name, offset)
        fd = open_private(self.dir / kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            write_all(fd, tail)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.aside_written.append(kept)

    # ------------------------------------------------------------------------------------------- heal

    def _heal(
        self,
        tables: dict[str, dict[str, Doc]],
        generation: int,
        replayed: int,
        archives: dict[int, tuple[ArchiveEntry, YearIndex]],
    ) -> Loaded:
        """Set the damage aside and write the recovered state as a fresh snapshot and manifest.

        Order matters for a crash in the middle: damaged bytes are copied first, whole files are
        renamed aside before the new snapshot exists, and journals are deleted only after the new
        snapshot and manifest are durable. Raises OSError.
        """
        for name in self.aside_whole:
            if (self.dir / name).exists():
                kept = aside_name(self.dir, name, 0)
                os.replace(self.dir / name, self.dir / kept)
                self.aside_written.append(kept)
        fsync_dir(self.dir)
        entry = write_snapshot_file(self.dir, tables, generation)
        manifest = Manifest(self.dir, Listing(None, {}))
        manifest.write(Listing(entry, {}, {year: archive for year, (archive, _) in archives.items()}))
        for name in os.listdir(self.dir):
            match = JOURNAL_RE.match(name)
            if match and int(match.group(1)) < generation:
                (self.dir / name).unlink(missing_ok=True)
        fsync_dir(self.dir)
        reason = "; ".join(problem.where_what for problem in self.found)
        if self.notes:
            reason += "; " + "; ".join(self.notes)
        reason += "; set aside in " + (", ".join(self.aside_written) or "nothing (the damage held no bytes)")
        logger.error("storage recovered with damage set aside: %s", reason)
        return Loaded(tables, generation, generation, 0, 0, manifest, recovered=reason, archives=archives)


def _checked_format(entry: SnapshotEntry | None) -> bool:
    """Whether the snapshot was written with a checksum (by this version, which also writes a manifest)."""
    return entry is not None and entry.format == SNAPSHOT_FORMAT


def _replay(tables: dict[str, dict[str, Doc]], payload: bytes) -> None:
    """Apply one journal record to ``tables``. Raises StorageError if it cannot be understood."""
    try:
        ops: Any = json.loads(payload)
        if not isinstance(ops, list):
            raise TypeError(type(ops).__name__)
        for op in ops:
            if op[0] == "p":
                tables.setdefault(op[1], {})[op[2]] = op[3]
            elif op[0] == "d":
                tables.get(op[1], {}).pop(op[2], None)
            else:
                raise ValueError(op[0])
    except (ValueError, IndexError, TypeError, KeyError, AttributeError) as exc:
        raise StorageError("a journal record has a valid checksum but cannot be understood") from exc
