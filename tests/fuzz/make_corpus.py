#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets in tests/fuzz/ (standard library only, deterministic).

    python3 tests/fuzz/make_corpus.py [OUT_DIR]          # default: tests/fuzz/corpus next to this script
    python3 tests/fuzz/make_corpus.py --check [OUT_DIR]  # exit 1 if OUT_DIR differs from what would be written

One directory per target (idx_raw, idx_gz, checkpoint, spec, png), each file named after what it holds. Seeds are tiny
valid inputs, plus truncations and bit flips of them (chosen with a fixed seed, so the output never changes unless
this script does). Kept small on purpose: libFuzzer grows its own corpus from these; they only have to reach every
parser branch's neighbourhood.
"""

import gzip
import json
import random
import struct
import sys
import zlib
from pathlib import Path

TARGETS = ("idx_raw", "idx_gz", "checkpoint", "spec", "png")


# --- IDX --------------------------------------------------------------------------------------------------------

IDX_TYPES = {"u8": (0x08, "B"), "i8": (0x09, "b"), "i16": (0x0B, ">h"), "i32": (0x0C, ">i"), "f32": (0x0D, ">f"),
             "f64": (0x0E, ">d")}


def idx(kind, dims, rng):
    """An IDX file: magic 00 00, type byte, dimension count, big-endian u32 dimensions, big-endian payload."""
    code, fmt = IDX_TYPES[kind]
    n = 1
    for d in dims:
        n *= d
    head = bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    if kind == "u8":
        body = bytes(rng.randrange(256) for _ in range(n))
    elif kind.startswith("f"):
        body = b"".join(struct.pack(fmt, rng.uniform(-2, 2)) for _ in range(n))
    else:
        body = b"".join(struct.pack(fmt, rng.randrange(-100, 100)) for _ in range(n))
    return head + body


def gz(data):
    # mtime=0 keeps the output byte-identical from run to run.
    return gzip.compress(data, compresslevel=6, mtime=0)


def flip(data, rng, count=1):
    b = bytearray(data)
    for _ in range(count):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def idx_seeds(rng):
    """Uncompressed IDX inputs: the valid ones read_idx accepts (u8, 1-4 dims) and its neighbours."""
    valid = {
        "u8_1d": idx("u8", [5], rng),
        "u8_2d": idx("u8", [2, 3], rng),
        "u8_3d": idx("u8", [2, 2, 3], rng),
        "u8_4d": idx("u8", [1, 2, 2, 2], rng),
        "u8_images": idx("u8", [3, 4, 4], rng),
        "u8_labels": idx("u8", [6], rng),
    }
    seeds = dict(valid)
    # Other element types: read_idx rejects them by name, but they are real IDX files.
    seeds["f32_2d"] = idx("f32", [2, 2], rng)
    seeds["i32_1d"] = idx("i32", [3], rng)
    seeds["f64_1d"] = idx("f64", [2], rng)
    seeds["i16_1d"] = idx("i16", [2], rng)
    seeds["i8_3d"] = idx("i8", [1, 2, 2], rng)
    # Header neighbours: 0 and 5 dimensions, a zero dimension, dimensions that claim far more than the file.
    seeds["u8_0dims"] = bytes([0, 0, 8, 0])
    seeds["u8_5dims"] = bytes([0, 0, 8, 5]) + struct.pack(">5I", 1, 1, 1, 1, 1) + b"\x07"
    seeds["u8_zero_dim"] = bytes([0, 0, 8, 2]) + struct.pack(">2I", 3, 0)
    seeds["u8_huge_dims"] = bytes([0, 0, 8, 2]) + struct.pack(">2I", 0xFFFFFFFF, 0xFFFFFFFF) + b"\x01\x02"
    seeds["u8_2g_exact"] = bytes([0, 0, 8, 2]) + struct.pack(">2I", 0x8000, 0x10000) + b"\x01"
    seeds["u8_trailing"] = valid["u8_2d"] + b"\x00\x01"
    for name in ("u8_2d", "u8_4d", "f32_2d"):
        full = seeds[name]
        for cut in (1, 3, 7, len(full) - 1):
            if 0 < cut < len(full):
                seeds["%s_cut%d" % (name, cut)] = full[:cut]
    for name in ("u8_1d", "u8_3d", "u8_images"):
        for k in range(2):
            seeds["%s_flip%d" % (name, k)] = flip(seeds[name], rng, 1 + k)
    return seeds


def gzip_seeds(rng):
    """Real gzip files (they start with 1f 8b, so both IDX targets pass them to read_idx unchanged)."""
    images = idx("u8", [2, 3, 3], rng)
    z = gz(images)
    seeds = {
        "gz_u8_3d": z,
        "gz_u8_1d": gz(idx("u8", [4], rng)),
        "gz_empty_stream": gz(b""),
        "gz_two_members": gz(images[:10]) + gz(images[10:]),
        "gz_trailing_garbage": z + b"garbage",
        "gz_cut_header": z[:5],
        "gz_cut_body": z[: len(z) // 2],
        "gz_cut_trailer": z[:-4],
        "gz_bad_crc": z[:-8] + bytes([z[-8] ^ 0xFF]) + z[-7:],
        "gz_bad_isize": z[:-4] + bytes([z[-4] ^ 0x01]) + z[-3:],
    }
    for k in range(3):
        seeds["gz_flip%d" % k] = flip(z, rng, 1)
    return seeds


# --- safetensors ------------------------------------------------------------------------------------------------

def safetensors(tensors, metadata=None, pad=True, raw_header=None):
    """tensors: list of (name, dtype 'F32'|'F64', shape, values). Laid out in order, as a writer may."""
    header = {}
    data = b""
    for name, dtype, shape, values in tensors:
        fmt = "<%d%s" % (len(values), "f" if dtype == "F32" else "d")
        blob = struct.pack(fmt, *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    if metadata is not None:
        header["__metadata__"] = metadata
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":"))
    text = text.encode("utf-8")
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def checkpoint_seeds(rng):
    valid = {
        "one_f32": safetensors([("w", "F32", [2, 2], [0.5, -1.0, 2.0, 3.25])]),
        "f64_and_f32": safetensors([("b", "F64", [2], [1.0, -0.5]), ("w", "F32", [3], [1.0, 2.0, 3.0])]),
        "scalar": safetensors([("s", "F64", [], [42.0])]),
        "empty_tensor": safetensors([("e", "F32", [0, 3], [])]),
        "metadata": safetensors([("layer.0.weight", "F32", [1, 2], [1.0, 2.0])],
                                metadata={"format": "pt", "epoch": "3"}),
        "only_metadata": safetensors([], metadata={"k": "v"}),
        "no_tensors": safetensors([]),
        "unpadded": safetensors([("x", "F32", [1], [1.0])], pad=False),
        "four_dims": safetensors([("t", "F32", [1, 2, 1, 2], [1.0, 2.0, 3.0, 4.0])]),
    }
    seeds = dict(valid)
    # Header neighbours the loader must reject: each names one rule.
    bad = {
        "dtype_i32": '{"t":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}',
        "offsets_overlap": '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                           '"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}',
        "offsets_gap": '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        "offsets_reversed": '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}',
        "shape_negative": '{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}',
        "shape_huge": '{"a":{"dtype":"F64","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}',
        "shape_float": '{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}',
        "duplicate_key": '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                         '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        "metadata_not_string": '{"__metadata__":{"k":1}}',
        "header_array": '[1,2,3]',
        "header_not_json": '{"a":',
        "nested": '{"a":{"dtype":[[[[[[[[]]]]]]]],"shape":[1],"data_offsets":[0,4]}}',
    }
    for name, text in bad.items():
        data_bytes = 8 if name in ("offsets_gap", "offsets_overlap") else 4
        seeds["bad_" + name] = safetensors([], raw_header=text) + b"\x00" * data_bytes
    seeds["header_len_huge"] = struct.pack("<Q", 1 << 40) + b"{}"
    seeds["header_len_past_end"] = struct.pack("<Q", 64) + b"{}      "
    seeds["short_file"] = b"\x08\x00\x00"
    for name in ("one_f32", "f64_and_f32", "metadata"):
        full = valid[name]
        for cut in (4, 8, 20, len(full) - 3):
            seeds["%s_cut%d" % (name, cut)] = full[:cut]
        for k in range(2):
            seeds["%s_flip%d" % (name, k)] = flip(full, rng, 1 + k)
    return seeds


# --- model specs ------------------------------------------------------------------------------------------------

def spec_seeds():
    specs = ["784-256-10", "784-256-128-10", "2-1", "1-1-1-1-1", "9999999-1", "10-10000000", "0-5", "5-0",
             "a-b", "", "-", "10--10", "10-", "-10", "784", " 784-10", "784-10\n", "+1-2", "1e3-2", "0x10-2",
             "007-3", "\xff-1", "1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"]
    return {"spec%02d" % i: s.encode("latin-1") for i, s in enumerate(specs)}


# --- PNG --------------------------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples a pixel
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def png_chunk(kind, data):
    """A chunk: big-endian length, type, data, and the CRC-32 over type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def ihdr(width, height, depth, ctype, interlace=0, compression=0, filtering=0):
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, ctype, compression, filtering,
                                          interlace))


def pack_row(pixels, depth):
    """A row of pixels (tuples of samples) as bytes: sub-byte samples packed from the high bits, 16-bit big-endian."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for px in pixels for s in px)
    if depth == 8:
        return bytes(s for px in pixels for s in px)
    out, acc, bits = bytearray(), 0, 0
    for px in pixels:
        for s in px:
            acc, bits = (acc << depth) | s, bits + depth
            if bits == 8:
                out.append(acc)
                acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def filter_rows(rows, bpp, kind):
    """Filters packed rows with one filter type (0 none, 1 sub, 2 up, 3 average, 4 paeth), each row led by it."""
    out, prev = b"", bytes(len(rows[0])) if rows else b""
    for row in rows:
        f = bytearray([kind])
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = (0, a, b, (a + b) // 2, paeth(a, b, c))[kind]
            f.append((x - pred) & 0xFF)
        out += bytes(f)
        prev = row
    return out


def png_idat_data(image, depth, ctype, interlace=0, kind=0):
    """The uncompressed image data: the rows (or Adam7's seven passes' rows), packed and filtered."""
    samples = PNG_SAMPLES[ctype]
    bpp = max(1, samples * depth // 8)
    if not interlace:
        return filter_rows([pack_row(r, depth) for r in image], bpp, kind)
    height, width = len(image), len(image[0])
    data = b""
    for x0, y0, dx, dy in ADAM7:
        rows = [pack_row(image[y][x0::dx], depth) for y in range(y0, height, dy) if x0 < width]
        data += filter_rows(rows, bpp, kind) if rows else b""
    return data


def random_image(width, height, depth, ctype, rng):
    top = (1 << depth) - 1
    return [[tuple(rng.randrange(top + 1) for _ in range(PNG_SAMPLES[ctype])) for _ in range(width)]
            for _ in range(height)]


def png(width, height, depth, ctype, rng, interlace=0, kind=0, extra=b"", trns=b"", idat_parts=1):
    """A PNG written here, independently of libpng: IHDR, the extra chunks, PLTE for a palette image, tRNS if
    given, IDAT (split into `idat_parts` chunks) and IEND."""
    image = random_image(width, height, depth, ctype, rng)
    z = zlib.compress(png_idat_data(image, depth, ctype, interlace, kind), 9)
    body = ihdr(width, height, depth, ctype, interlace) + extra
    if ctype == 3:
        body += png_chunk(b"PLTE", bytes(rng.randrange(256) for _ in range(3 << depth)))
    if trns:
        body += png_chunk(b"tRNS", trns)
    step = -(-len(z) // idat_parts)
    for i in range(0, len(z), step):
        body += png_chunk(b"IDAT", z[i:i + step])
    return PNG_SIGNATURE + body + png_chunk(b"IEND", b"")


def png_seeds(rng):
    """Valid PNGs of every colour type and bit depth read_png must read, and hostile neighbours of them."""
    valid = {}
    for ctype, depths in ((0, (1, 2, 4, 8, 16)), (2, (8, 16)), (3, (1, 2, 4, 8)), (4, (8, 16)), (6, (8, 16))):
        for depth in depths:
            valid["type%d_depth%d" % (ctype, depth)] = png(5, 3, depth, ctype, rng)
    valid["gray8_1x1"] = png(1, 1, 8, 0, rng)
    valid["gray8_interlaced"] = png(9, 9, 8, 0, rng, interlace=1)
    valid["gray1_interlaced"] = png(10, 3, 1, 0, rng, interlace=1)
    valid["rgba8_interlaced"] = png(5, 5, 8, 6, rng, interlace=1)
    valid["palette4_interlaced"] = png(3, 7, 4, 3, rng, interlace=1)
    for kind in (1, 2, 3, 4):
        valid["rgb8_filter%d" % kind] = png(6, 4, 8, 2, rng, kind=kind)
    valid["gray16_paeth"] = png(4, 4, 16, 0, rng, kind=4)
    valid["rgb8_idat_split"] = png(6, 4, 8, 2, rng, idat_parts=3)
    # Transparency without alpha: a tRNS colour key (gray, RGB) or palette alphas.
    valid["gray8_trns"] = png(4, 3, 8, 0, rng, trns=struct.pack(">H", 7))
    valid["rgb8_trns"] = png(4, 3, 8, 2, rng, trns=struct.pack(">3H", 1, 2, 3))
    valid["palette2_trns"] = png(4, 3, 2, 3, rng, trns=b"\x00\x80")
    # Ancillary chunks read_png's conversions look at (gamma, sRGB, background, colour space) or skip.
    ancillary = (png_chunk(b"gAMA", struct.pack(">I", 45455)) + png_chunk(b"sRGB", b"\x00") +
                 png_chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)) +
                 png_chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)) + png_chunk(b"tEXt", b"Title\x00seed") +
                 png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"a seed for fuzz_png")) +
                 png_chunk(b"bKGD", struct.pack(">3H", 0, 0, 255)) + png_chunk(b"prVt", b"private"))
    valid["rgba8_ancillary"] = png(3, 3, 8, 6, rng, extra=ancillary)
    valid["gray8_gamma"] = png(3, 3, 8, 0, rng, extra=png_chunk(b"gAMA", struct.pack(">I", 100000)))
    # A wide 1-bit palette row: 125001 bytes of rows in a small file, read as a 1000000 x 1 RGB image (3 MB).
    wide = zlib.compress(b"\x00" * 125001, 9)
    valid["palette1_max_width"] = (PNG_SIGNATURE + ihdr(1000000, 1, 1, 3) + png_chunk(b"PLTE", b"\x00\x00\x00") +
                                   png_chunk(b"IDAT", wide) + png_chunk(b"IEND", b""))
    seeds = dict(valid)

    # Hostile headers: sides out of range, a header claiming far more than the file, IHDR's other fields wrong.
    base = valid["type0_depth8"]
    tail = base[8 + 25:]  # the chunks after IHDR

    def with_ihdr(*args, **kw):
        return PNG_SIGNATURE + ihdr(*args, **kw) + tail

    seeds["ihdr_huge"] = with_ihdr(100000, 100000, 8, 0)
    seeds["ihdr_max_side"] = with_ihdr(1000000, 1000000, 16, 6)
    seeds["ihdr_side_over_max"] = with_ihdr(1000001, 1, 8, 0)
    seeds["ihdr_2p31"] = with_ihdr(0x80000000, 1, 8, 0)
    seeds["ihdr_zero_width"] = with_ihdr(0, 3, 8, 0)
    seeds["ihdr_zero_height"] = with_ihdr(5, 0, 8, 0)
    seeds["ihdr_depth3"] = with_ihdr(5, 3, 3, 0)
    seeds["ihdr_depth16_palette"] = with_ihdr(5, 3, 16, 3)
    seeds["ihdr_type5"] = with_ihdr(5, 3, 8, 5)
    seeds["ihdr_compression1"] = with_ihdr(5, 3, 8, 0, compression=1)
    seeds["ihdr_filtering1"] = with_ihdr(5, 3, 8, 0, filtering=1)
    seeds["ihdr_interlace2"] = with_ihdr(5, 3, 8, 0, interlace=2)
    seeds["ihdr_length12"] = PNG_SIGNATURE + png_chunk(b"IHDR", struct.pack(">IIBBBB", 5, 3, 8, 0, 0, 0)) + tail
    seeds["ihdr_not_first"] = (PNG_SIGNATURE + png_chunk(b"gAMA", struct.pack(">I", 45455)) + base[8:])
    seeds["ihdr_twice"] = base[:8 + 25] + base[8:]
    # Broken framing: a cut file, a bad CRC (header, data), no IEND, bytes after IEND, no IDAT, a palette image
    # without PLTE, an empty file and the signature alone.
    rgb = valid["rgb8_filter4"]
    for cut in (7, 20, 33, 45, len(rgb) // 2, len(rgb) - 12, len(rgb) - 1):
        seeds["rgb8_cut%d" % cut] = rgb[:cut]
    seeds["ihdr_bad_crc"] = base[:8 + 21] + bytes([base[8 + 21] ^ 0x01]) + base[8 + 22:]
    seeds["idat_bad_crc"] = base[:-13] + bytes([base[-13] ^ 0x80]) + base[-12:]
    seeds["iend_bad_crc"] = base[:-1] + b"\x83"
    seeds["no_iend"] = base[:-12]
    seeds["after_iend"] = base + b"\x00" * 4
    seeds["iend_twice"] = base + png_chunk(b"IEND", b"")
    seeds["no_idat"] = PNG_SIGNATURE + ihdr(5, 3, 8, 0) + png_chunk(b"IEND", b"")
    seeds["palette_no_plte"] = PNG_SIGNATURE + ihdr(2, 2, 8, 3) + png_chunk(b"IDAT", zlib.compress(
        b"\x00\x00\x00" * 2)) + png_chunk(b"IEND", b"")
    seeds["plte_too_long"] = PNG_SIGNATURE + ihdr(2, 2, 1, 3) + png_chunk(b"PLTE", b"\x01" * 9) + png_chunk(
        b"IDAT", zlib.compress(b"\x00\x00" * 2)) + png_chunk(b"IEND", b"")
    seeds["empty"] = b""
    seeds["signature_only"] = PNG_SIGNATURE
    # Image data that is wrong behind correct CRCs: too short, too long, a filter type 5, a zlib stream that is
    # corrupt, cut, or asks for a preset dictionary.
    def with_idat(z, width=5, height=3, depth=8, ctype=0):
        return PNG_SIGNATURE + ihdr(width, height, depth, ctype) + png_chunk(b"IDAT", z) + png_chunk(b"IEND", b"")

    rows = png_idat_data(random_image(5, 3, 8, 0, rng), 8, 0)
    seeds["idat_short"] = with_idat(zlib.compress(rows[:-4]))
    seeds["idat_long"] = with_idat(zlib.compress(rows + b"\x00" * 6))
    seeds["idat_filter5"] = with_idat(zlib.compress(b"\x05" + rows[1:]))
    z = zlib.compress(rows)
    seeds["idat_zlib_bad_header"] = with_idat(b"\x78\x9d" + z[2:])
    seeds["idat_zlib_bad_adler"] = with_idat(z[:-1] + bytes([z[-1] ^ 0x01]))
    seeds["idat_zlib_cut"] = with_idat(z[:len(z) // 2])
    seeds["idat_zlib_stored"] = with_idat(zlib.compress(rows, 0))
    seeds["idat_zlib_fdict"] = with_idat(b"\x78\xbb" + struct.pack(">I", 1) + z[2:])
    seeds["idat_empty"] = with_idat(b"")
    for name in ("type3_depth4", "type6_depth16", "gray8_interlaced", "rgba8_ancillary"):
        for k in range(2):
            seeds["%s_flip%d" % (name, k)] = flip(valid[name], rng, 1 + k)
    return seeds


# --- output -----------------------------------------------------------------------------------------------------

def corpus():
    rng = random.Random(20240606)
    idx_files = idx_seeds(rng)
    gz_files = gzip_seeds(rng)
    # idx_raw reads its input as the file; idx_gz gzips an input unless it already starts with 1f 8b. Both get
    # the IDX seeds and the gzip files; idx_raw needs fewer gzip ones (its gzip path is idx_gz's main job).
    out = {
        "idx_raw": {**idx_files, **{k: v for k, v in gz_files.items() if k in ("gz_u8_3d", "gz_cut_body")}},
        "idx_gz": {**idx_files, **gz_files},
        "checkpoint": checkpoint_seeds(rng),
        "spec": spec_seeds(),
        # Its own generator, so adding PNG seeds left the other targets' seeds as they were.
        "png": png_seeds(random.Random(20261207)),
    }
    return out


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    root = Path(args[0]) if args else Path(__file__).resolve().parent / "corpus"
    stale = []
    for target, files in corpus().items():
        d = root / target
        if not check:
            d.mkdir(parents=True, exist_ok=True)
            for old in d.iterdir():
                if old.is_file():
                    old.unlink()
        for name, data in sorted(files.items()):
            p = d / name
            if check:
                if not p.is_file() or p.read_bytes() != data:
                    stale.append(str(p))
            else:
                p.write_bytes(data)
        if check and d.is_dir():
            stale += [str(p) + " (not generated)" for p in d.iterdir() if p.name not in files]
    if check:
        if stale:
            print("make_corpus: the committed corpus differs from the generator's output; run "
                  "`python3 tests/fuzz/make_corpus.py`:\n  " + "\n  ".join(sorted(stale)), file=sys.stderr)
            return 1
        print("make_corpus: corpus matches (%d targets)" % len(TARGETS))
        return 0
    total = sum(len(f) for f in corpus().values())
    print("make_corpus: wrote %d files under %s" % (total, root))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
