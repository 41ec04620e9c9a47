"""The zip layer: read a workbook's members raw, write them back raw.

Every member the writer does not change keeps its original compressed bytes, compression
method and position; new members get fixed header fields, so the same inputs give the same
output bytes. Files that are not transitional OOXML zips (OLE compound files: encrypted
workbooks and legacy .xls; anything that is not a zip; encrypted members) are refused here.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from isal import isal_zlib

from xlplan.core.errors import FileError, FileRefused, TemplateError
from xlplan.workbook.package import limits
from xlplan.workbook.package.contenttypes import CONTENT_TYPES_PART, ContentTypes

__all__ = ["Package", "Source", "not_workbook", "parse_part"]

Source = bytes | BinaryIO | Path | str

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FIXED_EPOCH = (1980, 1, 1, 0, 0, 0)  # new members get a fixed time: same inputs, same bytes


@dataclass
class _Member:
    """One zip member: original header fields and compressed bytes, or new content."""

    info: zipfile.ZipInfo
    raw: bytes | memoryview | None  # original compressed bytes (a view of the file's bytes);
    # None once the content changed
    data: bytes | None  # decompressed content, read lazily
    stream: Iterable[bytes] | None = None  # new content made while the zip is written


class Package:
    """A workbook package held in memory. Part names are compared case-insensitively (OPC)."""

    def __init__(self, label: str, zf: zipfile.ZipFile, blob: bytes) -> None:
        self.label = label
        self._zf = zf
        self.limits = limits.current()
        self._members: dict[str, _Member] = {}
        for info in zf.infolist():
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise not_workbook(label, "encrypted zip member")
            self._members[info.filename.lower()] = _Member(info, _raw_data(blob, info), None)
        self.content_types = ContentTypes(
            self.read(CONTENT_TYPES_PART).decode("utf-8"), label=self.label
        )

    @classmethod
    def load(cls, source: Source, role: str) -> Package:
        """Read a package from bytes, a binary file object or a path.

        ``role`` names the input in messages when it has no file name (``<target bytes>``).

        Raises
        ------
        FileRefused
            The file cannot be read, is an OLE compound file (encrypted, .xls), is not a zip,
            has no ``[Content_Types].xml`` or holds encrypted or unreadable members.
        """
        blob, label = _read_source(source, role)
        if blob.startswith(_OLE_MAGIC):
            raise FileRefused(
                f"文件已加密或是旧版 .xls 格式，无法写入：{label}",
                f"the file is encrypted or a legacy .xls workbook, cannot write into it: {label}",
            )
        try:
            zf = zipfile.ZipFile(io.BytesIO(blob))
        except (zipfile.BadZipFile, OSError) as exc:
            raise not_workbook(label, str(exc)) from exc
        if CONTENT_TYPES_PART.lower() not in {i.filename.lower() for i in zf.infolist()}:
            raise not_workbook(label, "no [Content_Types].xml")
        try:
            return cls(label, zf, blob)
        except (zipfile.BadZipFile, OSError, UnicodeDecodeError) as exc:
            raise not_workbook(label, str(exc)) from exc

    def names(self) -> list[str]:
        """Member names as stored, in zip order."""
        return [m.info.filename for m in self._members.values()]

    def has(self, part: str) -> bool:
        return part.lower() in self._members

    def read(self, part: str) -> bytes:
        """The decompressed content of ``part``; KeyError when there is no such member."""
        member = self._members.get(part.lower())
        if member is None:
            raise KeyError(part)
        if member.stream is not None:
            member.data, member.stream = b"".join(member.stream), None
        if member.data is None:
            cap = self.limits.part_bytes
            if member.info.file_size > cap:
                raise limits.part_over_limit(self.label, part, member.info.file_size, self.limits)
            data = b"".join(self._inflated(member, part, 1 << 24))
            if _is_xml(part):
                limits.check_prolog(self.label, part, data[:4096])
            member.data = data
        return member.data

    def stream(self, part: str, size: int = 1 << 22) -> Iterator[bytes]:
        """The decompressed content of ``part`` in chunks of about ``size`` bytes, never held
        whole; FileRefused past the part size limit or when the member is unreadable."""
        member = self._members.get(part.lower())
        if member is None:
            raise KeyError(part)
        if member.data is not None or member.stream is not None:
            data = self.read(part)
            for at in range(0, len(data), size):
                yield data[at : at + size]
            return
        if member.info.file_size > self.limits.part_bytes:
            raise limits.part_over_limit(self.label, part, member.info.file_size, self.limits)
        yield from self._inflated(member, part, size)

    def _inflated(self, member: _Member, part: str, size: int) -> Iterator[bytes]:
        """A member's content in chunks of at most ``size`` bytes, checked against the part
        size limit as it expands (a member may expand beyond its declared size) and against
        its CRC at the end. Deflated members are inflated by ISA-L (``isal``: about twice
        zlib's speed; a 100,000-line sheet is 115 MB of XML); other methods by zipfile."""
        cap, total = self.limits.part_bytes, 0
        try:
            for chunk in _chunks_of(member, size, self._zf):
                total += len(chunk)
                if total > cap:
                    raise limits.part_over_limit(self.label, part, total, self.limits)
                yield chunk
        except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError) as exc:
            raise not_workbook(self.label, f"{part}: {exc}") from exc

    def check(self, part: str) -> int:
        """Check a part another reader will parse without decompressing it: its declared size
        against the limit, its prolog for a DTD. Returns the declared size.

        Raises
        ------
        FileRefused
            Over the size limit, a DTD, or an unreadable member.
        """
        member = self._members.get(part.lower())
        if member is None:
            raise KeyError(part)
        size = member.info.file_size
        if size > self.limits.part_bytes:
            raise limits.part_over_limit(self.label, part, size, self.limits)
        if member.data is not None:
            head = member.data[:4096]
        else:  # the first chunk only: inflating stops there
            head = next(self._inflated(member, part, 4096), b"")
        if _is_xml(part):
            limits.check_prolog(self.label, part, head)
        return size

    def read_text(self, part: str) -> str:
        return self.read(part).decode("utf-8")

    def write(self, part: str, data: bytes) -> None:
        """Replace a member's content in place, or append a new member at the end."""
        member = self._members.get(part.lower())
        if member is None:
            info = zipfile.ZipInfo(part, _FIXED_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            info.create_system = 0
            self._members[part.lower()] = _Member(info, None, data)
        elif member.data != data or member.raw is None or member.stream is not None:
            member.raw, member.data, member.stream = None, data, None

    def write_text(self, part: str, text: str) -> None:
        self.write(part, text.encode("utf-8"))

    def write_stream(self, part: str, chunks: Iterable[bytes]) -> None:
        """Like :meth:`write`, with content made chunk by chunk when the zip is written (and
        compressed as it comes): a big generated sheet is never held whole."""
        self.write(part, b"")
        member = self._members[part.lower()]
        member.raw, member.data, member.stream = None, None, chunks

    def delete(self, part: str) -> None:
        self._members.pop(part.lower(), None)

    def to_bytes(self) -> bytes:
        """The package as zip bytes, ``[Content_Types].xml`` saved first if it changed."""
        self.content_types.save(self)
        return _write_zip(list(self._members.values()))


def parse_part(pkg: Package, part: str) -> Any:
    """The root element of XML part ``part``, parsed without DTDs or entities (an
    ``xml.etree.ElementTree.Element``); FileRefused when it is hostile or not well-formed."""
    return limits.parse_xml(pkg.label, part, pkg.read(part))


def _is_xml(part: str) -> bool:
    return part.lower().endswith((".xml", ".rels", ".vml"))


def not_workbook(label: str, why: str) -> FileRefused:
    """The error for a file that is not a readable workbook; ``why`` says what was wrong."""
    return FileRefused(
        f"文件不是有效的 Excel 工作簿：{label}（{why}）",
        f"not a valid Excel workbook: {label} ({why})",
    )


def _read_source(source: Source, role: str) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), f"<{role} bytes>"
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            return path.read_bytes(), str(path)
        except OSError as exc:
            raise FileError(
                f"无法读取文件：{path}（{exc.strerror}）", f"cannot read {path}: {exc.strerror}"
            ) from exc
    data = source.read()
    name = getattr(source, "name", None)
    return bytes(data), str(name) if isinstance(name, str) else f"<{role} stream>"


_INFLATE_ERROR: type[Exception] = isal_zlib.error  # type: ignore[assignment]  # a class at run time


def _chunks_of(member: _Member, size: int, zf: zipfile.ZipFile) -> Iterator[bytes]:
    """The decompressed content of an unchanged member in chunks of at most ``size`` bytes;
    BadZipFile when it is cut short or its CRC differs."""
    info, raw = member.info, member.raw
    if raw is None or info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        with zf.open(info) as f:  # other methods (bzip2, lzma): zipfile's decoders
            while chunk := f.read(size):
                yield chunk
        return
    crc = 0
    if info.compress_type == zipfile.ZIP_STORED:
        for at in range(0, len(raw), size):
            piece = bytes(raw[at : at + size])
            crc = isal_zlib.crc32(piece, crc)
            yield piece
    else:
        inflate = isal_zlib.decompressobj(-15)
        step = 1 << 20  # input fed in slices: the inflater keeps (copies) what it has not used
        for at in range(0, max(len(raw), 1), step):
            rest: bytes | memoryview = raw[at : at + step]
            while rest and not inflate.eof:
                try:
                    chunk = inflate.decompress(rest, size)
                except _INFLATE_ERROR as exc:
                    raise zipfile.BadZipFile(f"{info.filename}: {exc}") from exc
                rest = inflate.unconsumed_tail
                if chunk:
                    crc = isal_zlib.crc32(chunk, crc)
                    yield chunk
        while not inflate.eof:  # output held back for want of room
            chunk = inflate.decompress(b"", size)
            if not chunk:
                break
            crc = isal_zlib.crc32(chunk, crc)
            yield chunk
        if not inflate.eof:
            raise zipfile.BadZipFile(f"{info.filename}: compressed data cut short")
    if crc != info.CRC:
        raise zipfile.BadZipFile(f"bad CRC-32 for {info.filename}")


def _raw_data(blob: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The member's compressed bytes exactly as stored, found through its local header: a
    view of the file's bytes (held anyway), not a second copy of them."""
    off = info.header_offset
    if blob[off : off + 4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", blob[off + 26 : off + 30])
    start = off + 30 + name_len + extra_len
    return memoryview(blob)[start : start + info.compress_size]


def _write_zip(members: list[_Member]) -> bytes:
    """Write members in order; unchanged ones keep their compressed bytes (no recompression).

    zipfile has no public way to copy compressed data, hence this small writer. No data
    descriptors and no zip64: workbooks over 4 GB are out of scope.
    """
    out = io.BytesIO()
    central: list[bytes] = []
    for member in members:
        info = member.info
        if member.stream is not None:
            central.append(_write_streamed(out, info, member.stream))
            continue
        if member.raw is not None:
            raw, method = member.raw, info.compress_type
            crc, size = info.CRC, info.file_size
        else:
            data = member.data or b""
            method = zipfile.ZIP_STORED if info.compress_type == 0 else zipfile.ZIP_DEFLATED
            raw = data if method == zipfile.ZIP_STORED else _deflate(data)
            crc, size = zlib.crc32(data), len(data)
        utf8 = not info.orig_filename.isascii()
        name = info.orig_filename.encode("utf-8" if utf8 else "ascii")
        flags = (info.flag_bits & ~0x08 & ~0x800) | (0x800 if utf8 else 0)
        dos_time, dos_date = _dos_datetime(info.date_time)
        extract = info.extract_version if member.raw is not None else 20
        offset = out.tell()
        common = struct.pack(
            "<HHHHHLLLH", extract, flags, method, dos_time, dos_date, crc, len(raw), size, len(name)
        )
        out.write(b"PK\x03\x04" + common + struct.pack("<H", 0) + name + raw)
        made_by = (info.create_system << 8) | min(info.create_version, 63)
        central.append(
            b"PK\x01\x02"
            + struct.pack("<H", made_by)
            + common
            + struct.pack("<HHHHLL", 0, 0, 0, info.internal_attr, info.external_attr, offset)
            + name
        )
    cd_offset = out.tell()
    for entry in central:
        out.write(entry)
    cd_size = out.tell() - cd_offset
    out.write(
        b"PK\x05\x06"
        + struct.pack("<HHHHLLH", 0, 0, len(central), len(central), cd_size, cd_offset, 0)
    )
    return out.getvalue()


def _write_streamed(out: io.BytesIO, info: zipfile.ZipInfo, chunks: Iterable[bytes]) -> bytes:
    """Write a member whose content comes in chunks, deflated by ISA-L (``isal``, level 1:
    the big generated sheets; 0.11 s of CPU for the 129 MB results sheet of 100,000 lines,
    where zlib's fastest level takes 0.47 s and writes 11 % more bytes) in a worker thread
    while the next chunk is made; the local header is patched once sizes are known.
    Returns the central directory entry."""
    from concurrent.futures import ThreadPoolExecutor

    name = info.orig_filename.encode("utf-8")
    utf8 = not info.orig_filename.isascii()
    flags = 0x800 if utf8 else 0
    dos_time, dos_date = _dos_datetime(info.date_time)
    offset = out.tell()
    out.write(b"\0" * (30 + len(name)))
    comp = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)
    crc, size, written = 0, 0, 0
    with ThreadPoolExecutor(1, thread_name_prefix="xlplan-deflate") as pool:
        previous = None
        for chunk in chunks:
            crc = isal_zlib.crc32(chunk, crc)
            size += len(chunk)
            job = pool.submit(comp.compress, chunk)
            if previous is not None:
                written += out.write(previous.result())
            previous = job
        if previous is not None:
            written += out.write(previous.result())
    written += out.write(comp.flush())
    if size >= 0xFFFFFFFF or written >= 0xFFFFFFFF:
        raise TemplateError(f"{info.orig_filename} is over 4 GB; XLPlan does not write zip64")
    end = out.tell()
    common = struct.pack(
        "<HHHHHLLLH",
        20,
        flags,
        zipfile.ZIP_DEFLATED,
        dos_time,
        dos_date,
        crc,
        written,
        size,
        len(name),
    )
    out.seek(offset)
    out.write(b"PK\x03\x04" + common + struct.pack("<H", 0) + name)
    out.seek(end)
    made_by = (info.create_system << 8) | min(info.create_version, 63)
    return (
        b"PK\x01\x02"
        + struct.pack("<H", made_by)
        + common
        + struct.pack("<HHHHLL", 0, 0, 0, info.internal_attr, info.external_attr, offset)
        + name
    )


def _deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def _dos_datetime(dt: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = dt
    year = max(year, 1980)
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day
