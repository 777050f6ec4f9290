"""
A SAM fixture's weights as ONNX, for timing onnxruntime on exactly the weights this project runs
(`npm run bench:perf` does this on demand):

    python3 scripts/reference/export_onnx.py --sam-repo /path/to/segment-anything \
        --fixture ../shared/fixtures/sam/vitb2 --out .cache/onnx/vitb2

Writes `encoder.onnx` (`torch.onnx.export` of `sam.image_encoder`: a normalised, padded
1 x 3 x 1024 x 1024 input to the 1 x 256 x 64 x 64 embedding) and `decoder.onnx` (the official
`segment_anything.utils.onnx.SamOnnxModel`, multimask, with its outputs cut to the IoU predictions
and the low-res masks, so that it does what this project's low-res decoder call does and no
full-size upscaling). Needs torch, torchvision, onnx (Debian: python3-torch python3-torchvision
python3-onnx) and a checkout of facebookresearch/segment-anything.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(__file__))
from bench_official_sam import build  # noqa: E402


class LowResDecoder(torch.nn.Module):
    """SamOnnxModel's prompt encoding and mask decoding; the full-size masks are left out of the graph."""

    def __init__(self, onnx_model: torch.nn.Module) -> None:
        super().__init__()
        self.inner = onnx_model

    def forward(self, image_embeddings, point_coords, point_labels, mask_input, has_mask_input):
        size = torch.tensor([256.0, 256.0])
        _, scores, low_res_masks = self.inner(
            image_embeddings, point_coords, point_labels, mask_input, has_mask_input, size
        )
        return scores, low_res_masks


def export(module: torch.nn.Module, inputs: dict, outputs: list[str], file: str, opset: int, dynamic=None) -> None:
    tmp = f"{file}.tmp"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=UserWarning)
        torch.onnx.export(
            module, tuple(inputs.values()), tmp, export_params=True, opset_version=opset,
            do_constant_folding=True, input_names=list(inputs), output_names=outputs, dynamic_axes=dynamic or {},
        )
    import onnx

    onnx.checker.check_model(tmp)
    os.replace(tmp, file)
    print(f"wrote {file} ({os.path.getsize(file) / 2**20:.1f} MiB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sam-repo", required=True)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()
    sam, _ = build(args.sam_repo, args.fixture)
    from segment_anything.utils.onnx import SamOnnxModel

    os.makedirs(args.out, exist_ok=True)
    size = sam.image_encoder.img_size
    with torch.no_grad():
        export(sam.image_encoder, {"image": torch.randn(1, 3, size, size)}, ["image_embeddings"],
               os.path.join(args.out, "encoder.onnx"), args.opset)
        embed = sam.prompt_encoder.image_embedding_size
        decoder_inputs = {
            "image_embeddings": torch.randn(1, sam.prompt_encoder.embed_dim, *embed),
            "point_coords": torch.randint(0, size, (1, 2, 2), dtype=torch.float),
            "point_labels": torch.tensor([[1.0, -1.0]]),
            "mask_input": torch.zeros(1, 1, 4 * embed[0], 4 * embed[1]),
            "has_mask_input": torch.tensor([0.0]),
        }
        export(LowResDecoder(SamOnnxModel(sam, return_single_mask=False)), decoder_inputs,
               ["iou_predictions", "low_res_masks"], os.path.join(args.out, "decoder.onnx"), args.opset,
               {"point_coords": {1: "num_points"}, "point_labels": {1: "num_points"}})


if __name__ == "__main__":
    main()
