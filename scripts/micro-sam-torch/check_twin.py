"""
Write the PyTorch twin's outputs for seeded random weights, so the TypeScript test
(test/sam-training/torch-twin.test.ts) can check that src/sam computes the same numbers.

    python3 scripts/micro-sam-torch/check_twin.py --config test/fixtures/torch-twin/config.json --out test/fixtures/torch-twin

Writes weights.safetensors (the twin's state dict, official names) and cases.safetensors: the
input image (uint8 [H, W, 3], already at the input size, shorter than it so the padding is
exercised), its embedding [1, C, E, E], and for each case k the prompt (points_k [N, 2] and
labels_k [N] in input-frame pixels, box_k [4], mask_k [4E, 4E]; absent when unused), the
multimask flag (multimask_k [1]) and the outputs low_res_k [M, 4E, 4E] and iou_k [M].
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from sam_twin import Sam, init_like_pytorch, state_dict_for_export  # noqa: E402
from st_io import write_safetensors  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    config = json.load(open(args.config))
    model = Sam(config).eval()
    init_like_pytorch(model, args.seed)
    # Default init leaves positional tables at zero; give them values so they are checked too.
    gen = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "pos" in name or name.endswith("bias") or "norm" in name:
                p.add_(0.2 * torch.randn(p.shape, generator=gen))

    s = config["image_encoder"]["img_size"]
    h, w = (s * 3) // 4, s
    rng = np.random.default_rng(args.seed)
    image = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    e = s // config["image_encoder"]["patch_size"]
    cases = [
        {"points": [[w * 0.3, h * 0.4]], "labels": [1], "multimask": True},
        {"points": [[w * 0.6, h * 0.2], [w * 0.1, h * 0.7]], "labels": [1, 0], "multimask": False,
         "mask": rng.normal(0, 4, size=(4 * e, 4 * e)).astype(np.float32)},
        {"box": [w * 0.1, h * 0.2, w * 0.7, h * 0.9], "multimask": False},
        {"points": [[w * 0.5, h * 0.5]], "labels": [0], "box": [w * 0.2, h * 0.1, w * 0.8, h * 0.6], "multimask": True},
    ]
    out: dict[str, np.ndarray] = {"image": image}
    with torch.no_grad():
        x = model.preprocess(torch.from_numpy(image)[None])
        emb = model.image_encoder(x)
        out["embedding"] = emb.numpy()
        for k, c in enumerate(cases):
            pts = torch.tensor([c["points"]], dtype=torch.float32) if "points" in c else None
            lab = torch.tensor([c["labels"]], dtype=torch.int64) if "labels" in c else None
            box = torch.tensor([c["box"]], dtype=torch.float32) if "box" in c else None
            mask = torch.from_numpy(c["mask"])[None, None] if "mask" in c else None
            low, iou = model.decode(emb, pts, lab, box, mask, c["multimask"])
            if pts is not None:
                out[f"points_{k}"] = pts[0].numpy()
                out[f"labels_{k}"] = lab[0].numpy().astype(np.int32)
            if box is not None:
                out[f"box_{k}"] = box[0].numpy()
            if mask is not None:
                out[f"mask_{k}"] = c["mask"]
            out[f"multimask_{k}"] = np.array([1 if c["multimask"] else 0], dtype=np.int32)
            out[f"low_res_{k}"] = low[0].numpy()
            out[f"iou_{k}"] = iou[0].numpy()
    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "weights.safetensors"), state_dict_for_export(model))
    write_safetensors(os.path.join(args.out, "cases.safetensors"), out, {"cases": str(len(cases)), "seed": str(args.seed)})
    print(f"wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
