#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets in tests/fuzz/ (standard library only, deterministic).

    python3 tests/fuzz/make_corpus.py [OUT_DIR]          # default: tests/fuzz/corpus next to this script
    python3 tests/fuzz/make_corpus.py --check [OUT_DIR]  # exit 1 if OUT_DIR differs from what would be written

One directory per target (idx_raw, idx_gz, checkpoint, spec), each file named after what it holds. Seeds are tiny
valid inputs, plus truncations and bit flips of them (chosen with a fixed seed, so the output never changes unless
this script does). Kept small on purpose: libFuzzer grows its own corpus from these; they only have to reach every
parser branch's neighbourhood.
"""

import gzip
import json
import random
import struct
import sys
from pathlib import Path

TARGETS = ("idx_raw", "idx_gz", "checkpoint", "spec")


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
