"""The zip layer on its own: raw copies of untouched members, deterministic new ones, refusals."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest
from tiny_packages import content_types, zip_of

from xlplan.core.errors import InputError
from xlplan.workbook.package.zip import Package, parse_part

CT = content_types()
PARTS: dict[str, str | bytes] = {
    "[Content_Types].xml": CT,
    "xl/a.xml": "<a>" + "x" * 200 + "</a>",
    "xl/b.bin": b"\0\1",
}


def raw_members(blob: bytes) -> list[tuple[str, int, int, bytes]]:
    """Per member, in zip order: name, flags, compression method and the bytes as stored."""
    out = []
    for info in zipfile.ZipFile(io.BytesIO(blob)).infolist():
        off = info.header_offset
        name_len, extra_len = struct.unpack("<HH", blob[off + 26 : off + 30])
        start = off + 30 + name_len + extra_len
        raw = blob[start : start + info.compress_size]
        out.append((info.filename, info.flag_bits, info.compress_type, raw))
    return out


def with_flag(blob: bytes, name: str, bit: int) -> bytes:
    """``blob`` with a general-purpose flag bit set on member ``name`` (both headers)."""
    data = bytearray(blob)
    info = zipfile.ZipFile(io.BytesIO(blob)).getinfo(name)
    local = info.header_offset + 6
    data[local : local + 2] = struct.pack("<H", info.flag_bits | bit)
    central = data.find(b"PK\x01\x02" + blob[info.header_offset + 4 : info.header_offset + 6])
    while data[central + 46 : central + 46 + len(name)] != name.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    data[central + 8 : central + 10] = struct.pack("<H", info.flag_bits | bit)
    return bytes(data)


class Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors after each member."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)


# ------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------


def test_members_are_found_case_insensitively_and_listed_as_stored() -> None:
    pkg = Package.load(zip_of(PARTS), "target")
    assert pkg.names() == list(PARTS)
    assert pkg.has("XL/A.XML") and not pkg.has("xl/c.xml")
    assert pkg.read("Xl/B.bin") == b"\0\1"
    assert pkg.read_text("xl/a.xml") == PARTS["xl/a.xml"]
    with pytest.raises(KeyError):
        pkg.read("xl/c.xml")


def test_directory_entries_are_not_members() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", CT)
        zf.mkdir("xl")
    assert Package.load(buf.getvalue(), "target").names() == ["[Content_Types].xml"]


def test_sources_can_be_bytes_streams_or_paths(tmp_path: Path) -> None:
    blob = zip_of(PARTS)
    path = tmp_path / "book.xlsx"
    path.write_bytes(blob)
    for source in (blob, io.BytesIO(blob), path, str(path)):
        assert Package.load(source, "target").read("xl/b.bin") == b"\0\1"


@pytest.mark.parametrize(
    ("source", "label"),
    [
        (b"not a zip", "<target bytes>"),
        (io.BytesIO(b"not a zip"), "<target stream>"),
    ],
)
def test_messages_name_the_input(source: bytes | io.BytesIO, label: str) -> None:
    with pytest.raises(InputError, match=label):
        Package.load(source, "target")


def test_messages_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="notes.xlsx"):
        Package.load(path, "target")
    with path.open("rb") as stream:  # a file object carries its name
        with pytest.raises(InputError, match="notes.xlsx"):
            Package.load(stream, "target")


def test_missing_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read") as info:
        Package.load(tmp_path / "nope.xlsx", "target")
    assert "无法读取文件" in info.value.zh


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504


@pytest.mark.parametrize(
    ("blob", "why"),
    [
        (OLE, "the file is encrypted or a legacy .xls workbook"),
        (b"", "not a valid Excel workbook"),
        (b"PK\x03\x04 truncated", "not a valid Excel workbook"),
        (zip_of({"xl/a.xml": "<a/>"}), r"no \[Content_Types\].xml"),
        (zip_of({"[Content_Types].xml": b"<Types>\xff</Types>"}), "not a valid Excel workbook"),
        (with_flag(zip_of(PARTS), "xl/a.xml", 0x1), "encrypted zip member"),
    ],
    ids=["ole", "empty", "truncated", "no-content-types", "not-utf8", "encrypted"],
)
def test_non_workbooks_are_refused(blob: bytes, why: str) -> None:
    with pytest.raises(InputError, match=why) as info:
        Package.load(blob, "target")
    assert info.value.zh


@pytest.mark.xfail(
    strict=True,
    reason="[Content_Types].xml is parsed on first lookup, after load: its ParseError escapes "
    "write_owned_sheets and relink_package as a bare xml error instead of an InputError",
)
def test_ill_formed_content_types_are_refused_on_load() -> None:
    with pytest.raises(InputError, match="not a valid Excel workbook"):
        Package.load(zip_of({"[Content_Types].xml": "<Types"}), "target")


def test_parse_part_refuses_ill_formed_xml_naming_the_part() -> None:
    pkg = Package.load(zip_of({**PARTS, "xl/bad.xml": "<a><b></a>"}), "target")
    assert parse_part(pkg, "xl/a.xml").tag == "a"
    with pytest.raises(InputError, match="xl/bad.xml"):
        parse_part(pkg, "xl/bad.xml")


def damaged(blob: bytes, name: str, how: str) -> bytes:
    """``blob`` with member ``name``'s stored bytes damaged: ``crc`` (one byte of the content
    changed in a stored member, so its CRC no longer matches), ``cut`` (the deflate stream cut
    short, the rest zeros) or ``garbage`` (the deflate stream overwritten)."""
    data = bytearray(blob)
    info = zipfile.ZipFile(io.BytesIO(blob)).getinfo(name)
    name_len, extra_len = struct.unpack(
        "<HH", blob[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len
    end = start + info.compress_size
    if how == "crc":
        data[start + 5] ^= 0x01
    elif how == "cut":
        data[start + (end - start) // 2 : end] = bytes(end - start - (end - start) // 2)
    else:
        data[start:end] = b"\xff" * (end - start)
    return bytes(data)


BIG = "<a>" + "".join(f"<r>{i * 7919 % 100003}</r>" for i in range(200_000)) + "</a>"


@pytest.mark.parametrize(
    ("method", "how"),
    [
        (zipfile.ZIP_STORED, "crc"),
        (zipfile.ZIP_DEFLATED, "cut"),
        (zipfile.ZIP_DEFLATED, "garbage"),
    ],
)
def test_damaged_members_are_refused_whole_and_streamed(method: int, how: str) -> None:
    blob = damaged(zip_of({**PARTS, "xl/big.xml": BIG}, method), "xl/big.xml", how)
    pkg = Package.load(blob, "target")
    with pytest.raises(InputError, match="not a valid Excel workbook.*xl/big.xml") as info:
        pkg.read("xl/big.xml")
    assert info.value.zh
    with pytest.raises(InputError, match="not a valid Excel workbook.*xl/big.xml"):
        b"".join(Package.load(blob, "target").stream("xl/big.xml", 1 << 12))


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
@pytest.mark.parametrize("size", [1, 4096, 1 << 22])
def test_members_stream_in_chunks_of_at_most_the_size_asked(method: int, size: int) -> None:
    pkg = Package.load(zip_of({**PARTS, "xl/big.xml": BIG}, method), "target")
    chunks = list(pkg.stream("xl/big.xml", size if size > 1 else 7))
    assert b"".join(chunks).decode() == BIG
    assert all(len(c) <= max(size, 7) for c in chunks)


def test_a_big_streamed_member_reads_back_through_zipfile() -> None:
    """The big generated sheets are deflated as they come (ISA-L): zipfile reads them back."""
    pkg = Package.load(zip_of(PARTS), "target")
    pkg.write_stream(
        "xl/big.xml", (BIG[i : i + 50_000].encode() for i in range(0, len(BIG), 50_000))
    )
    out = pkg.to_bytes()
    zf = zipfile.ZipFile(io.BytesIO(out))
    assert zf.testzip() is None
    assert zf.read("xl/big.xml").decode() == BIG
    assert zf.getinfo("xl/big.xml").compress_size < len(BIG) // 2
    assert Package.load(out, "target").read("xl/big.xml").decode() == BIG


# ------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_untouched_members_keep_their_stored_bytes_method_and_order(method: int) -> None:
    blob = zip_of(PARTS, method)
    pkg = Package.load(blob, "target")
    pkg.write("xl/b.bin", pkg.read("xl/b.bin"))  # the same content is no change
    out = pkg.to_bytes()
    assert [(n, m, raw) for n, _, m, raw in raw_members(out)] == [
        (n, m, raw) for n, _, m, raw in raw_members(blob)
    ]
    assert zipfile.ZipFile(io.BytesIO(out)).testzip() is None


def test_output_is_a_fixed_point() -> None:
    """Reading what was written and writing it again gives the same bytes."""
    pkg = Package.load(zip_of(PARTS), "target")
    pkg.write_text("xl/a.xml", "<a>changed</a>")
    pkg.write("xl/new.bin", b"new")
    out = pkg.to_bytes()
    assert Package.load(out, "target").to_bytes() == out


def test_same_edits_give_the_same_bytes() -> None:
    def edit() -> bytes:
        pkg = Package.load(zip_of(PARTS), "target")
        pkg.write_text("xl/a.xml", "<a>changed</a>")
        pkg.write("xl/new.bin", b"new")
        pkg.content_types.ensure("xl/new.bin", "app/bin")
        return pkg.to_bytes()

    assert edit() == edit()


def test_a_changed_member_keeps_its_place_and_method() -> None:
    pkg = Package.load(zip_of(PARTS, zipfile.ZIP_STORED), "target")
    pkg.write_text("xl/a.xml", "<a>changed</a>")
    zf = zipfile.ZipFile(io.BytesIO(pkg.to_bytes()))
    assert zf.namelist() == list(PARTS)
    assert zf.read("xl/a.xml") == b"<a>changed</a>"
    assert zf.getinfo("xl/a.xml").compress_type == zipfile.ZIP_STORED


def test_new_members_go_last_with_fixed_header_fields() -> None:
    pkg = Package.load(zip_of(PARTS), "target")
    pkg.write("xl/media/图1.png", b"\x89PNG")
    zf = zipfile.ZipFile(io.BytesIO(pkg.to_bytes()))
    info = zf.infolist()[-1]
    assert info.filename == "xl/media/图1.png"
    assert info.date_time == (1980, 1, 1, 0, 0, 0)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert info.external_attr == 0o600 << 16
    assert info.create_system == 0
    assert info.flag_bits & 0x800, "a non-ASCII name is flagged UTF-8"
    assert zf.read(info) == b"\x89PNG"


def test_deleted_members_are_gone() -> None:
    pkg = Package.load(zip_of(PARTS), "target")
    pkg.delete("XL/A.xml")
    pkg.delete("xl/never.xml")
    assert pkg.names() == ["[Content_Types].xml", "xl/b.bin"]
    assert zipfile.ZipFile(io.BytesIO(pkg.to_bytes())).namelist() == pkg.names()


def test_content_types_are_written_only_when_changed() -> None:
    blob = zip_of(PARTS)
    pkg = Package.load(blob, "target")
    assert raw_members(pkg.to_bytes())[0] == raw_members(blob)[0]
    pkg.content_types.ensure("xl/b.bin", "app/bin")
    text = zipfile.ZipFile(io.BytesIO(pkg.to_bytes())).read("[Content_Types].xml").decode()
    assert text == pkg.content_types.text
    assert 'Extension="bin"' in text


def test_data_descriptors_are_dropped_and_the_bytes_kept() -> None:
    """A zip streamed by its writer (flag bit 3) comes out with sizes in the headers."""
    stream = Unseekable()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in PARTS.items():
            zf.writestr(name, data)
    blob = bytes(stream.data)
    assert all(flags & 0x08 for _, flags, _, _ in raw_members(blob))
    out = Package.load(blob, "target").to_bytes()
    assert [(n, raw) for n, _, _, raw in raw_members(out)] == [
        (n, raw) for n, _, _, raw in raw_members(blob)
    ]
    assert not any(flags & 0x08 for _, flags, _, _ in raw_members(out))
    zf = zipfile.ZipFile(io.BytesIO(out))
    assert zf.testzip() is None
    assert zf.read("xl/a.xml").decode() == PARTS["xl/a.xml"]
