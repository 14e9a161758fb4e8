#!/usr/bin/env python3
"""Writes the PyTorch fixtures used by Tests/TorchPickleTests.

Needs a Python with torch installed (plain `pip install torch` in a venv outside
the repository). Run from anywhere:

    python scripts/make_pt_fixtures.py [--out Tests/TorchPickleTests/Fixtures]

Outputs, all small (tens of kB at most):
  * valid torch.save archives of TensorDataset(images, magnitudes, redshift)
    in the zip format (default since torch 1.6), in the legacy
    `_use_new_zipfile_serialization=False` format, with pickle protocol 4,
    with deflate-compressed zip entries, and with offset / non-contiguous
    tensor views;
  * `<name>.expected.bin`: every tensor of the dataset, in order, as the
    C-contiguous little-endian bytes of its own dtype (what the Swift reader
    must reproduce value for value), described in manifest.json;
  * malformed archives: a foreign global (hand-crafted pickle bytes, never
    executed), images of the wrong dtype, images of the wrong shape, tensors
    with different sample counts, a big-endian byteorder record and a
    truncated archive.

manifest.json records the torch and Python versions used; the committed
fixtures came from torch 2.15.0+cu132 (CPU use only) on Python 3.11.7. Tensor values are
deterministic (fixed seeds); the zip bytes are not, because torch.save writes a
fresh `.data/serialization_id` every time.
"""

import argparse
import io
import json
import os
import platform
import struct
import sys
import tempfile
import zipfile

import torch
from torch.utils.data import TensorDataset

DTYPE_NAMES = {
    torch.float32: "float32",
    torch.float64: "float64",
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.int64: "int64",
    torch.int32: "int32",
    torch.int16: "int16",
    torch.int8: "int8",
    torch.uint8: "uint8",
    torch.bool: "bool",
}


def atomic_write(path, data):
    """Writes bytes via a temporary file in the same directory plus rename."""
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def saved_bytes(obj, archive_name, **kwargs):
    """torch.save into memory; the zip's top folder is `archive_name`."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, archive_name + ".pt")
        torch.save(obj, path, **kwargs)
        with open(path, "rb") as handle:
            return handle.read()


def contiguous_le_bytes(tensor):
    """C-order little-endian bytes of the tensor in its own dtype."""
    flat = tensor.contiguous().reshape(-1)
    if tensor.dtype == torch.bfloat16:
        flat = flat.view(torch.int16)
    raw = flat.numpy().tobytes()
    if sys.byteorder != "little":
        raise SystemExit("fixtures must be generated on a little-endian machine")
    return raw


def describe(tensors, expected_name):
    entries = []
    offset = 0
    for tensor in tensors:
        raw = contiguous_le_bytes(tensor)
        entries.append({
            "dtype": DTYPE_NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "strides": list(tensor.stride()),
            "storage_offset": tensor.storage_offset(),
            "expected_offset": offset,
            "expected_bytes": len(raw),
        })
        offset += len(raw)
    return {"expected": expected_name, "tensors": entries}


def astro_dataset(seed, n):
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(n, 5, 32, 32, generator=generator)
    magnitudes = 15.0 + 5.0 * torch.rand(n, 5, generator=generator, dtype=torch.float64)
    redshift = torch.rand(n, generator=generator) * 0.4
    return TensorDataset(images, magnitudes, redshift)


def rezip(data, transform):
    """Copies a zip, letting transform(name, bytes) -> (name, bytes, compress_type) edit entries."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            name, payload, compress_type = transform(info.filename, source.read(info.filename))
            target.writestr(name, payload, compress_type=compress_type)
    return out.getvalue()


def check_loads(data, dataset):
    loaded = torch.load(io.BytesIO(data), weights_only=False)
    assert isinstance(loaded, TensorDataset)
    for got, want in zip(loaded.tensors, dataset.tensors):
        assert got.dtype == want.dtype and torch.equal(got, want), "torch cannot read back a fixture"


# Hand-written pickle protocol 2 bytes: the equivalent of `os.system("echo pwned")`.
# It is only ever written to disk, never unpickled here.
EVIL_PICKLE = (
    b"\x80\x02"                       # PROTO 2
    b"cos\nsystem\n"                  # GLOBAL 'os system'
    b"q\x00"                          # BINPUT 0
    b"X\x0a\x00\x00\x00echo pwned"    # BINUNICODE
    b"\x85"                           # TUPLE1
    b"R"                              # REDUCE
    b"."                              # STOP
)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "Tests", "TorchPickleTests", "Fixtures")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=default_out)
    out = os.path.abspath(parser.parse_args().out)
    os.makedirs(out, exist_ok=True)

    manifest = {
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "generator": "scripts/make_pt_fixtures.py",
        "valid": {},
        "malformed": {},
    }

    def write_valid(name, data, dataset, format_name):
        check_loads(data, dataset)
        atomic_write(os.path.join(out, name), data)
        expected_name = name.replace(".pt", ".expected.bin")
        atomic_write(os.path.join(out, expected_name),
                     b"".join(contiguous_le_bytes(t) for t in dataset.tensors))
        entry = describe(dataset.tensors, expected_name)
        entry["format"] = format_name
        manifest["valid"][name] = entry

    def write_malformed(name, data, expected_error):
        atomic_write(os.path.join(out, name), data)
        manifest["malformed"][name] = expected_error

    # 1. Plain zip-format archives (pickle protocol 2, stored entries).
    ds3 = astro_dataset(seed=3, n=3)
    write_valid("ds3.pt", saved_bytes(ds3, "ds3"), ds3, "zip")

    # 2. The legacy (pre-1.6) format.
    ds2 = astro_dataset(seed=2, n=2)
    write_valid("ds2_legacy.pt", saved_bytes(ds2, "ds2_legacy", _use_new_zipfile_serialization=False),
                ds2, "legacy")

    # 3. Views: images is the second half of a 2-sample storage (storage_offset 5120);
    #    magnitudes is a transposed slice (strides (1, 4), offset 1); redshift is a
    #    strided slice (stride 2). torch saves each full storage.
    generator = torch.Generator().manual_seed(7)
    images_storage = torch.randn(2, 5, 32, 32, generator=generator)
    magnitude_base = torch.arange(20, dtype=torch.float64).reshape(5, 4) * 0.5 + 14.0
    redshift_base = torch.linspace(0.0, 0.3, 4)
    views = TensorDataset(images_storage[1:2], magnitude_base.t()[1:2], redshift_base[1::2][:1])
    assert views.tensors[0].storage_offset() == 5120
    assert not views.tensors[1].is_contiguous() and views.tensors[1].storage_offset() == 1
    assert views.tensors[2].stride() == (2,) and views.tensors[2].storage_offset() == 1
    write_valid("views.pt", saved_bytes(views, "views"), views, "zip")

    # 4. Pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE).
    generator = torch.Generator().manual_seed(4)
    small = TensorDataset(torch.randn(2, 5, 2, 2, generator=generator),
                          torch.rand(2, 5, generator=generator, dtype=torch.float64),
                          torch.tensor([0.125, 0.25]))
    write_valid("proto4.pt", saved_bytes(small, "proto4", pickle_protocol=4), small, "zip")

    # 5. Deflate-compressed zip entries (torch.load reads them; torch never writes them).
    ds1 = astro_dataset(seed=1, n=1)
    deflated = rezip(saved_bytes(ds1, "deflated"), lambda n, b: (n, b, zipfile.ZIP_DEFLATED))
    write_valid("deflated.pt", deflated, ds1, "zip")

    # 6. Other dtypes (float16, bfloat16, int64, uint8, bool) for the conversion paths.
    mixed = TensorDataset(torch.tensor([[1.5, -2.25], [65504.0, 0.0]], dtype=torch.float16),
                          torch.tensor([[1.0, -3.5], [0.15625, 256.0]], dtype=torch.bfloat16),
                          torch.tensor([-7, 2**40], dtype=torch.int64),
                          torch.tensor([0, 255], dtype=torch.uint8),
                          torch.tensor([True, False]))
    write_valid("mixed_dtypes.pt", saved_bytes(mixed, "mixed_dtypes"), mixed, "zip")

    # Malformed archives.
    evil = rezip(saved_bytes(small, "evil"),
                 lambda n, b: (n, EVIL_PICKLE if n.endswith("/data.pkl") else b, zipfile.ZIP_STORED))
    write_malformed("evil_global.pt", evil, "forbiddenGlobal os.system")

    wrong_dtype = TensorDataset(ds1.tensors[0].double(), ds1.tensors[1], ds1.tensors[2])
    write_malformed("wrong_dtype.pt", saved_bytes(wrong_dtype, "wrong_dtype"), "wrongDType images float64")

    wrong_shape = TensorDataset(torch.zeros(1, 5, 16, 16), ds1.tensors[1], ds1.tensors[2])
    write_malformed("wrong_shape.pt", saved_bytes(wrong_shape, "wrong_shape"), "wrongShape images [1, 5, 16, 16]")

    mismatched = TensorDataset(torch.zeros(2, 5, 2, 2), torch.zeros(2, 5, dtype=torch.float64), torch.zeros(2))
    mismatched.tensors = (mismatched.tensors[0], mismatched.tensors[1][:1], mismatched.tensors[2])
    write_malformed("mismatched_counts.pt", saved_bytes(mismatched, "mismatched_counts"), "sampleCountMismatch [2, 1, 2]")

    big_endian = rezip(saved_bytes(small, "big_endian"),
                       lambda n, b: (n, b"big" if n.endswith("/byteorder") else b, zipfile.ZIP_STORED))
    write_malformed("big_endian.pt", big_endian, "unsupportedByteOrder big")

    whole = saved_bytes(small, "truncated")
    write_malformed("truncated.pt", whole[: len(whole) * 2 // 3], "zip end of central directory missing")

    atomic_write(os.path.join(out, "manifest.json"),
                 (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    print(f"torch {torch.__version__} (Python {platform.python_version()}): wrote "
          f"{len(manifest['valid'])} valid and {len(manifest['malformed'])} malformed fixtures to {out}")


if __name__ == "__main__":
    main()
