#!/usr/bin/env python3
"""Writes the model-checkpoint fixtures used by Tests/TorchPickleTests and
Tests/AstroMAETests/CheckpointPickleTests.swift.

Needs a Python with torch and numpy (`pip install torch==2.*` outside the
repository). Run from the repository root:

    python scripts/make_checkpoint_fixtures.py [--out Tests/TorchPickleTests/Fixtures/checkpoints]

The PyTorch AstroMAE below follows ../shared/spec/ASTROMAE.md and uses the
module paths of CAI's code (`blocks.model_vit_inception.ViT_Astro`,
`blocks.photoz.Input_Mix_Model` / `InceptionBlock` / `ConvBlock`, ViTAE
`NormalCell` blocks, timm's `PatchEmbed` and `Mlp`), registered as fake
modules so pickle records those names. CAI saved `nn.DataParallel(model)`,
so the full-module fixtures wrap it the same way. Where CAI's ViTAE module
path is not known it is `vitae.NormalCell`.

Outputs:
  * `mini_*.pt`: a small model of the same classes (a few layers), saved as a
    full module (zip, protocol 4, legacy stream, half precision), as
    state_dicts (plain, DataParallel `module.` names, nested under `model` /
    `state_dict`, fp16, bf16, fp64); `mini.json` lists each file's state_dict
    names, dtypes, shapes and the offsets of their bytes in
    `<file>.expected.bin` (C-contiguous, own dtype).
  * `hostile_*.pt`: archives whose pickle would run code (os.system via
    __reduce__, eval, subprocess.Popen, pickle.loads of a nested pickle,
    an unknown callable, INST/OBJ, BUILD on a global, ...); `hostile.json`
    names the global each must be refused for. Their storages are removed,
    so a reader that touches a tensor first fails differently.
  * `astromae_*.skeleton.zip` + `astromae.json`: the real architecture
    with the spec's seeded weights (seed 20250108), saved by torch.save as
    (a) the whole DataParallel model, fp32, as CAI did, and (b) a half
    precision state_dict with `module.` names. The 61 MB of storages are not
    committed: the skeleton holds every other entry verbatim (data.pkl,
    byteorder, version, ...) and astromae.json gives each storage entry's
    tensor name, dtype and SHA-256, so a test can rebuild the archive from
    seeded weights and prove the bytes are PyTorch's. astromae.json also
    holds PyTorch's predictions for the golden inputs.
"""

import argparse
import hashlib
import io
import json
import os
import pickle
import platform
import struct
import subprocess
import sys
import tempfile
import types
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20250108
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


# ---------------------------------------------------------------- CAI-like classes


def in_module(path):
    """Class decorator: pickle records the class under `path` (a fake module)."""
    parts = path.split(".")
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
    module = sys.modules[path]

    def register(cls):
        cls.__module__ = path
        setattr(module, cls.__name__, cls)
        return cls

    return register


@in_module("timm.models.layers.patch_embed")
class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        self.img_size = (img_size, img_size)
        self.patch_size = (patch_size, patch_size)
        self.grid_size = (img_size // patch_size, img_size // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.flatten = True
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.Identity()

    def forward(self, x):
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


@in_module("timm.models.layers.mlp")
class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.drop = nn.Dropout(0.0)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


@in_module("vitae.NormalCell")
class Attention(nn.Module):
    """qkv without a Linear bias; q and v biases as parameters, k none."""

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.attn_drop = nn.Dropout(0.0)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.0)

    def forward(self, x):
        b, n, c = x.shape
        bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        out = (self.attn_drop(attn) @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(out))


@in_module("vitae.NormalCell")
class NormalCell(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio, group, grid):
        super().__init__()
        hidden = dim * mlp_ratio
        self.grid = grid
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.drop_path = nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden)
        self.PCM = nn.Sequential(
            nn.Conv2d(dim, hidden, 1, 1, 0, 1, group),
            nn.BatchNorm2d(hidden),
            nn.SiLU(inplace=True),
            nn.Conv2d(hidden, dim, 1, 1, 0, 1, group),
        )

    def forward(self, x):
        b, n, c = x.shape
        tokens = x[:, 1:].transpose(1, 2).reshape(b, c, self.grid, self.grid)
        conv = self.PCM(tokens).reshape(b, c, n - 1).transpose(1, 2)
        x = x + self.drop_path(self.attn(self.norm1(x)))
        x = torch.cat((x[:, :1], x[:, 1:] + conv), dim=1)
        return x + self.drop_path(self.mlp(self.norm2(x)))


@in_module("blocks.photoz")
class ConvBlock(nn.Module):
    def __init__(self, cin, cout, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, **kwargs)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


@in_module("blocks.photoz")
class InceptionBlock(nn.Module):
    def __init__(self, cin, width, is_custom=False):
        super().__init__()
        self.is_custom = is_custom
        self.branch1 = ConvBlock(cin, width, kernel_size=1)
        self.branch2 = nn.Sequential(ConvBlock(cin, width, kernel_size=1, padding=0),
                                     ConvBlock(width, width, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(ConvBlock(cin, width, kernel_size=1),
                                     ConvBlock(width, width, kernel_size=5, padding=2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, padding=1, stride=1),
                                     ConvBlock(cin, width, kernel_size=1))

    def forward(self, x):
        branches = (self.branch1, self.branch2, self.branch4) if self.is_custom else \
            (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], 1)


@in_module("blocks.photoz")
class Input_Mix_Model(nn.Module):
    """`layout` is the vis_inception sequence: ("pool",) or ("incep", cin, width, custom)."""

    def __init__(self, cout, layout, flat, features, magnitude_width, magnitude_layers):
        super().__init__()
        self.magnitude = True
        self.device = "cpu"
        self.config = [{"in_channel": item[1], "out_11": item[2]} for item in layout if item[0] == "incep"]
        self.conv2d_init = nn.Conv2d(5, cout, kernel_size=(1, 1), padding_mode="zeros")
        self.avgpool = nn.AvgPool2d(kernel_size=2, stride=2)
        layers = [self.conv2d_init, self.avgpool]
        for item in layout:
            layers.append(nn.AvgPool2d(kernel_size=2) if item[0] == "pool" else InceptionBlock(item[1], item[2], item[3]))
        layers += [nn.Flatten(), nn.Linear(flat, features), nn.ReLU(), nn.Linear(features, features)]
        self.vis_inception = nn.Sequential(*layers)
        magnitude = [nn.Linear(5, magnitude_width)]
        for _ in range(magnitude_layers - 1):
            magnitude += [nn.ReLU(), nn.Linear(magnitude_width, magnitude_width)]
        self.magnitude_block = nn.Sequential(*magnitude)

    def forward(self, x):
        return torch.cat((self.vis_inception(x[0]), self.magnitude_block(x[1].float())), axis=1)


@in_module("blocks.model_vit_inception")
class ViT_Astro(nn.Module):
    def __init__(self, embed_dim, depth, heads, img, patch, group, inception, features, magnitude_width):
        super().__init__()
        self.embed_dim = embed_dim
        self.fc_norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, embed_dim)
        self.inception_model = inception
        grid = img // patch
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, embed_dim), requires_grad=False)
        self.blocks = nn.ModuleList([NormalCell(embed_dim, heads, 4, group, grid) for _ in range(depth)])
        self.patch_embed = PatchEmbed(img, patch, 5, embed_dim)
        self.vit_block = nn.Sequential(nn.Linear(embed_dim, features), nn.ReLU(), nn.Linear(features, features))
        self.concat_block = nn.Sequential(nn.Linear(2 * features + magnitude_width, 1024), nn.ReLU(), nn.Linear(1024, 1))

    def forward(self, x):
        out = self.patch_embed(x[0])
        out = torch.cat((self.cls_token.expand(out.shape[0], -1, -1), out), dim=1) + self.pos_embed
        for block in self.blocks:
            out = block(out)
        out = self.vit_block(self.head(self.fc_norm(out[:, 1:, :].mean(dim=1))))
        return self.concat_block(torch.cat((out, self.inception_model(x)), axis=1))


def astromae():
    layout = [("incep", 32, 16, False), ("incep", 64, 16, False), ("pool",), ("incep", 64, 8, False),
              ("incep", 32, 8, False), ("pool",), ("incep", 32, 4, True)]
    inception = Input_Mix_Model(32, layout, 192, 1096, 1024, 5)
    return ViT_Astro(192, 12, 3, 32, 8, 48, inception, 1096, 1024)


def mini():
    """Same classes, a few layers: 1 NormalCell, 2 Inception blocks, 2 magnitude layers."""
    layout = [("incep", 4, 2, False), ("pool",), ("incep", 8, 2, True)]
    inception = Input_Mix_Model(4, layout, 6 * 2 * 2, 8, 6, 2)
    model = ViT_Astro(8, 1, 2, 8, 4, 2, inception, 8, 6)
    model.concat_block = nn.Sequential(nn.Linear(22, 4), nn.ReLU(), nn.Linear(4, 1))
    model.register_buffer("scratch", torch.zeros(3), persistent=False)
    model.dtype = torch.float32
    model.where = torch.device("cpu")
    model.scale_note = 0.25
    model.tags = {"bands": ("u", "g", "r", "i", "z"), "epochs": [1, 2], "missing": None}
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for _, tensor in model.state_dict().items():
            if tensor.dtype.is_floating_point:
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
            else:
                tensor.fill_(3)
    return model.eval()


# ---------------------------------------------------------------- seeded weights (spec)


def fnv1a64(text):
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def seeded_values(name, count, rule, a, b):
    with np.errstate(over="ignore"):
        s0 = np.uint64(SEED ^ fnv1a64(name))
        i = np.arange(1, count + 1, dtype=np.uint64)
        z = s0 + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    u = (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)
    values = a + b * (2 * u - 1) if rule == "sym" else a + b * u
    return values.astype(np.float32)


def load_seeded(model):
    """Fills the model from ../shared/spec/tensors.tsv's rules, checking first3 and sum."""
    tsv = os.path.join(REPO, "Fixtures", "golden", "tensors.tsv")
    shared = os.path.join(REPO, "..", "shared", "spec", "tensors.tsv")
    if os.path.exists(shared):
        tsv = shared
    state = model.state_dict()
    seen = set()
    with open(tsv) as handle:
        for line in handle:
            if line.startswith("#") or line.startswith("name\t"):
                continue
            name, shape, rule, a, b, first3, total = line.rstrip("\n").split("\t")
            target = state[name]
            values = seeded_values(name, target.numel(), rule, float(a), float(b))
            expected = [float(v) for v in first3.split(",")]
            assert np.allclose(values[:3].astype(np.float64), expected, rtol=0, atol=0), name
            assert abs(values.astype(np.float64).sum() - float(total)) <= 1e-9 * max(1, abs(float(total))), name
            with torch.no_grad():
                target.copy_(torch.from_numpy(values).reshape(target.shape))
            seen.add(name)
    extra = {n for n in state if n not in seen and not n.endswith("num_batches_tracked")
             and not n.startswith("inception_model.vis_inception.0.")}
    assert not extra, f"tensors without a seeded rule: {sorted(extra)}"
    return model.eval()


def read_safetensors(path):
    with open(path, "rb") as handle:
        raw = handle.read()
    length = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + length])
    base = 8 + length
    kinds = {"F32": np.float32, "F64": np.float64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(raw[base + start:base + end], dtype=kinds[info["dtype"]]).reshape(info["shape"])
    return out


# ---------------------------------------------------------------- writing fixtures


DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
               torch.bfloat16: "bfloat16", torch.int64: "int64"}


def expected_blob(state):
    """Every tensor's contiguous bytes in its own dtype, plus the offset table."""
    blob = bytearray()
    table = []
    for name, tensor in state.items():
        data = tensor.detach().contiguous()
        raw = data.view(torch.int16).numpy().tobytes() if data.dtype == torch.bfloat16 else data.numpy().tobytes()
        table.append({"name": name, "dtype": DTYPE_NAMES[data.dtype], "shape": list(data.shape),
                      "offset": len(blob), "bytes": len(raw)})
        blob += raw
    return bytes(blob), table


def hand_zip(name, pickle_bytes):
    """A torch-style archive holding only `pickle_bytes` as data.pkl (no storages)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{name}/data.pkl", pickle_bytes)
        archive.writestr(f"{name}/byteorder", "little")
        archive.writestr(f"{name}/version", "3\n")
    return buffer.getvalue()


def strip_storages(data):
    """Re-packs a torch.save zip without its data/ entries."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for info in source.infolist():
            if "/data/" not in info.filename:
                archive.writestr(info.filename, source.read(info.filename))
    return buffer.getvalue()


class Reduces:
    """An attribute whose pickling emits REDUCE(callable, args) - never called here."""

    def __init__(self, callable_, args):
        self.callable_ = callable_
        self.args = args

    def __reduce__(self):
        return (self.callable_, self.args)


def write_mini(out):
    model = mini()
    inner = model.state_dict()
    dp = nn.DataParallel(model)
    files = {
        "mini_full.pt": (dp, {}),
        "mini_full_proto4.pt": (dp, {"pickle_protocol": 4}),
        "mini_full_legacy.pt": (dp, {"_use_new_zipfile_serialization": False}),
        "mini_full_fp16.pt": (nn.DataParallel(mini().half()), {}),
        "mini_state_dict.pt": (inner, {}),
        "mini_dp_state_dict.pt": (dp.state_dict(), {}),
        "mini_nested_model.pt": ({"epoch": 7, "model": inner, "best_loss": 0.125}, {}),
        "mini_nested_state_dict.pt": ({"state_dict": dp.state_dict(), "optimizer": {"lr": 1e-3}}, {}),
        "mini_fp16.pt": ({k: v.half() if v.is_floating_point() else v for k, v in inner.items()}, {}),
        "mini_bf16.pt": ({k: v.bfloat16() if v.is_floating_point() else v for k, v in inner.items()}, {}),
        "mini_fp64.pt": ({k: v.double() if v.is_floating_point() else v for k, v in inner.items()}, {}),
    }
    manifest = {}
    for name, (obj, kwargs) in files.items():
        data = saved_bytes(obj, name[:-3], **kwargs)
        assert len(data) < 2_000_000
        atomic_write(os.path.join(out, name), data)
        loaded = torch.load(os.path.join(out, name), weights_only=False)
        state = loaded.state_dict() if isinstance(loaded, nn.Module) else loaded
        if "model" in state and isinstance(state["model"], dict):
            state = state["model"]
        if "state_dict" in state:
            state = state["state_dict"]
        blob, table = expected_blob(state)
        atomic_write(os.path.join(out, name[:-3] + ".expected.bin"), blob)
        manifest[name] = {"expected": name[:-3] + ".expected.bin", "tensors": table,
                          "full_module": isinstance(loaded, nn.Module)}
    return manifest


def write_hostile(out):
    """Each entry: file → the global the reader must name when refusing it."""
    model = mini()
    cases = {}

    def save_with(name, payload, global_name):
        model.payload = payload
        data = strip_storages(saved_bytes(nn.DataParallel(model), name[:-3]))
        atomic_write(os.path.join(out, name), data)
        cases[name] = global_name

    save_with("hostile_os_system.pt", Reduces(os.system, ("echo never run",)), f"{os.system.__module__}.system")
    save_with("hostile_eval.pt", Reduces(eval, ("__import__('os').system('true')",)), "__builtin__.eval")
    # Protocol 2 rewrites module names for Python 2 (fix_imports): subprocess is
    # pickled as `commands`, _pickle as `pickle`; the reader must name what the file says.
    save_with("hostile_subprocess.pt", Reduces(subprocess.Popen, (["true"],)), "commands.Popen")
    nested = pickle.dumps(Reduces(os.system, ("true",)), protocol=2)
    save_with("hostile_nested_pickle.pt", Reduces(pickle.loads, (nested,)), "pickle.loads")
    save_with("hostile_unknown_call.pt", Reduces(ConvBlock, (5, 4)), "blocks.photoz.ConvBlock")
    del model.payload

    def op_global(module, name):
        return b"c" + module.encode() + b"\n" + name.encode() + b"\n"

    hand = {
        # posix.system reached through STACK_GLOBAL with protocol 4 framing.
        "hostile_stack_global.pt": (b"\x80\x04\x8c\x05posix\x8c\x06system\x93\x8c\x04true\x85R.", "posix.system"),
        # INST calls its class with the marked arguments.
        "hostile_inst.pt": (b"\x80\x02(X\x04\x00\x00\x00trueios\nsystem\n.", "os.system"),
        # OBJ does the same with the class on the stack: an unknown class.
        "hostile_obj.pt": (b"\x80\x02(" + op_global("mypkg.tools", "Runner") + b"X\x01\x00\x00\x00xo.", "mypkg.tools.Runner"),
        # BUILD on a global would monkey-patch it (set its attributes).
        "hostile_build_global.pt": (b"\x80\x02" + op_global("torch.nn.modules.conv", "Conv2d")
                                    + b"}X\x0c\x00\x00\x00__setstate__" + op_global("os", "system") + b"sb.",
                                    "os.system"),
        "hostile_build_on_class.pt": (b"\x80\x02" + op_global("torch.nn.modules.conv", "Conv2d")
                                      + b"}X\x01\x00\x00\x00aK\x01sb.", "torch.nn.modules.conv.Conv2d"),
        # NEWOBJ with arguments (a __getnewargs__ payload) on an unknown class.
        "hostile_newobj_args.pt": (b"\x80\x02" + op_global("mypkg.tools", "Runner") + b"X\x04\x00\x00\x00true\x85\x81.",
                                   "mypkg.tools.Runner"),
        # getattr(module, 'system') - builtins are refused by name.
        "hostile_getattr.pt": (b"\x80\x02" + op_global("builtins", "getattr") + op_global("os", "path")
                               + b"X\x06\x00\x00\x00system\x86R.", "builtins.getattr"),
        # A tensor first, the payload after it: refused before any storage is read.
        "hostile_after_tensor.pt": (b"\x80\x02}(X\x01\x00\x00\x00w" + op_global("torch._utils", "_rebuild_tensor_v2")
                                    + b"((X\x07\x00\x00\x00storage" + op_global("torch", "FloatStorage")
                                    + b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00K\x04\x85K\x01\x85\x89"
                                    + op_global("collections", "OrderedDict") + b")RtRX\x01\x00\x00\x00x"
                                    + op_global("subprocess", "check_output") + b"X\x04\x00\x00\x00true\x85Ru.",
                                    "subprocess.check_output"),
    }
    for name, (payload, global_name) in hand.items():
        atomic_write(os.path.join(out, name), hand_zip(name[:-3], payload))
        cases[name] = global_name
    return cases


def skeleton(data):
    """Every non-storage entry verbatim, in order, and a description of each storage."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    storages = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for info in source.infolist():
            raw = source.read(info.filename)
            if "/data/" in info.filename and not info.filename.endswith("data.pkl"):
                storages.append({"entry": info.filename, "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()})
            else:
                archive.writestr(info.filename, raw)
    return buffer.getvalue(), storages, source


def describe_storages(storages, source, state):
    """Names the state_dict tensor whose bytes each storage holds (matched by content)."""
    by_bytes = {}
    for name, tensor in state.items():
        data = tensor.detach().contiguous()
        raw = data.view(torch.int16).numpy().tobytes() if data.dtype == torch.bfloat16 else data.numpy().tobytes()
        by_bytes.setdefault(raw, []).append((name, DTYPE_NAMES[data.dtype]))
    for storage in storages:
        raw = source.read(storage["entry"])
        names = by_bytes[raw]
        if raw == b"\x00" * len(raw) and names[0][1] == "int64":
            storage["fill"] = "zeros"
            storage["dtype"] = "int64"
            continue
        assert len({n for n, _ in names if not n.endswith("vis_inception.0.weight") and not n.endswith("vis_inception.0.bias")}) == 1, names
        name, dtype = next((n, d) for n, d in names if ".vis_inception.0." not in n and not n.startswith("inception_model.vis_inception.0."))
        storage["tensor"] = name
        storage["dtype"] = dtype


def write_astromae(out):
    model = load_seeded(astromae())
    golden = read_safetensors(os.path.join(REPO, "Fixtures", "golden", "astromae-seed20250108-b3.safetensors"))
    images = torch.from_numpy(golden["input.images"].copy())
    magnitudes = torch.from_numpy(golden["input.magnitudes"].copy())
    with torch.no_grad():
        fp32 = model([images, magnitudes]).numpy().astype(np.float64)
    reference = golden["output.redshift"].astype(np.float64)
    assert np.allclose(fp32, reference, rtol=1e-4, atol=1e-5), (fp32, reference)

    half_state = {"module." + k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    half_model = load_seeded(astromae())
    half_model.load_state_dict({k[len("module."):]: v.float() for k, v in half_state.items()})
    with torch.no_grad():
        fp16 = half_model([images, magnitudes]).numpy().astype(np.float64)

    variants = {
        "astromae_full": (nn.DataParallel(model), model.state_dict(), fp32, "full module, DataParallel, float32"),
        "astromae_fp16_state_dict": (half_state, {k[len("module."):]: v for k, v in half_state.items()}, fp16,
                                     "state_dict, module. names, float16"),
    }
    manifest = {"inputs": "Fixtures/golden/astromae-seed20250108-b3.safetensors", "seed": SEED, "variants": {}}
    for name, (obj, state, outputs, what) in variants.items():
        data = saved_bytes(obj, name)
        skeleton_bytes, storages, source = skeleton(data)
        describe_storages(storages, source, state)
        atomic_write(os.path.join(out, name + ".skeleton.zip"), skeleton_bytes)
        manifest["variants"][name] = {
            "what": what, "skeleton": name + ".skeleton.zip", "archive_bytes": len(data),
            "archive_sha256": hashlib.sha256(data).hexdigest(),
            "entries": [info.filename for info in source.infolist()],
            "storages": storages, "predictions": outputs.reshape(-1).tolist(),
        }
    manifest["golden_predictions"] = reference.reshape(-1).tolist()
    return manifest


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(REPO, "Tests", "TorchPickleTests", "Fixtures", "checkpoints"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    versions = {"torch_version": torch.__version__, "python_version": platform.python_version(),
                "numpy_version": np.__version__}
    mini_manifest = write_mini(args.out)
    hostile = write_hostile(args.out)
    astro = write_astromae(args.out)
    atomic_write(os.path.join(args.out, "mini.json"),
                 json.dumps({**versions, "files": mini_manifest}, indent=1, sort_keys=True).encode())
    atomic_write(os.path.join(args.out, "hostile.json"),
                 json.dumps({**versions, "refuse": hostile}, indent=1, sort_keys=True).encode())
    atomic_write(os.path.join(args.out, "astromae.json"),
                 json.dumps({**versions, **astro}, indent=1, sort_keys=True).encode())
    print(f"wrote fixtures to {args.out} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
