"""Minimal safetensors reading and writing (8-byte header length, JSON header, raw little-endian data)."""
from __future__ import annotations

import json
import os
import struct

import numpy as np
import torch

_NP = {"F32": np.float32, "U8": np.uint8, "I32": np.int32, "I64": np.int64, "F64": np.float64}
_NAME = {np.dtype(np.float32): "F32", np.dtype(np.uint8): "U8", np.dtype(np.int32): "I32", np.dtype(np.int64): "I64"}


def read_safetensors(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        meta = header.pop("__metadata__", {}) or {}
        out = {}
        for name, info in header.items():
            if info["dtype"] not in _NP:
                raise ValueError(f"{path}: tensor {name}: dtype {info['dtype']} not supported")
            start, end = info["data_offsets"]
            f.seek(base + start)
            out[name] = np.frombuffer(f.read(end - start), dtype=_NP[info["dtype"]]).reshape(info["shape"])
    return out, meta


def write_safetensors(path: str, tensors: dict[str, "np.ndarray | torch.Tensor"], metadata: dict[str, str] | None = None) -> None:
    """Written to a temporary file and renamed, so a reader never sees half a file."""
    arrays = {k: (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)) for k, v in tensors.items()}
    header: dict = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        arrays[name] = a
        header[name] = {"dtype": _NAME[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * ((8 - len(blob) % 8) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name in sorted(arrays):
            f.write(arrays[name].astype(arrays[name].dtype.newbyteorder("<"), copy=False).tobytes())
    os.replace(tmp, path)
