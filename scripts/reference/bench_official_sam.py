"""
The official SAM code's speed on this machine, for like-for-like comparison with `npm run bench:sam`
and `npm run bench:env` (same weights, same image size, same prompts per step).

    python3 scripts/reference/bench_official_sam.py --sam-repo /path/to/segment-anything \
        --fixture ../shared/fixtures/sam/vitb2 [--threads 1] [--steps 60]

It needs a checkout of facebookresearch/segment-anything (nothing of it is copied into this
project), torch, torchvision and numpy (Debian: python3-torch python3-torchvision). It builds the
reference `Sam` with the fixture's config, loads the fixture's weights, and prints:
  - `SamPredictor.set_image` time (the image encoder),
  - the mask decoder alone (`predict` with one point, multimask, low-res output),
  - `SamPredictor.predict` (one point; masks at full size, as the reference returns them),
  - 8 envs each adding a click and calling `predict` (all clicks so far, previous low-res logits
    as mask input, one mask), episodes of 15 clicks: steps per second.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "micro-sam-torch"))
from st_io import read_safetensors  # noqa: E402


def build(sam_repo: str, fixture: str):
    sys.path.insert(0, sam_repo)
    from functools import partial

    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    c = json.load(open(os.path.join(fixture, "config.json")))
    ie, pe, md = c["image_encoder"], c["prompt_encoder"], c["mask_decoder"]
    sam = Sam(
        image_encoder=ImageEncoderViT(
            depth=ie["depth"], embed_dim=ie["embed_dim"], img_size=ie["img_size"], mlp_ratio=ie["mlp_ratio"],
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=ie["num_heads"], patch_size=ie["patch_size"],
            qkv_bias=ie["qkv_bias"], use_rel_pos=ie["use_rel_pos"], global_attn_indexes=ie["global_attn_indexes"],
            window_size=ie["window_size"], out_chans=ie["out_chans"]),
        prompt_encoder=PromptEncoder(
            embed_dim=pe["embed_dim"], image_embedding_size=tuple(pe["image_embedding_size"]),
            input_image_size=tuple(pe["input_image_size"]), mask_in_chans=pe["mask_in_chans"]),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=md["num_multimask_outputs"],
            transformer=TwoWayTransformer(depth=md["transformer"]["depth"], embedding_dim=md["transformer"]["embedding_dim"],
                                          mlp_dim=md["transformer"]["mlp_dim"], num_heads=md["transformer"]["num_heads"]),
            transformer_dim=md["transformer_dim"], iou_head_depth=md["iou_head_depth"], iou_head_hidden_dim=md["iou_head_hidden_dim"]),
        pixel_mean=c["pixel_mean"], pixel_std=c["pixel_std"],
    )
    weights, _ = read_safetensors(os.path.join(fixture, "weights.safetensors"))
    missing, unexpected = sam.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()}, strict=False)
    if unexpected or [m for m in missing if m not in ("pixel_mean", "pixel_std")]:
        raise SystemExit(f"weights do not match: missing {missing}, unexpected {unexpected}")
    from segment_anything import SamPredictor

    return sam.eval(), SamPredictor


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def decoder_call(sam, predictor, pt: np.ndarray, lab: np.ndarray):
    """The decoder alone: predict_torch's work on already-transformed inputs, no full-size masks."""
    coords = torch.as_tensor(predictor.transform.apply_coords(pt, predictor.original_size), dtype=torch.float)[None]
    labels = torch.as_tensor(lab, dtype=torch.int)[None]
    sparse, dense = sam.prompt_encoder(points=(coords, labels), boxes=None, masks=None)
    sam.mask_decoder(image_embeddings=predictor.features, image_pe=sam.prompt_encoder.get_dense_pe(),
                     sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, multimask_output=True)


def serve(sam, predictor, image: np.ndarray) -> None:
    """Line protocol: 'encoder' -> one set_image, 'decoder N' -> N decoder calls; replies 'ms ...'."""
    h, w = image.shape[:2]
    pt, lab = np.array([[w * 0.4, h * 0.6]]), np.array([1])
    predictor.set_image(image)
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] == "encoder":
            out = timed(lambda: predictor.set_image(image), 1)
        elif cmd[0] == "decoder":
            out = timed(lambda: decoder_call(sam, predictor, pt, lab), int(cmd[1]))
        else:
            print(f"error unknown command {cmd[0]!r}", flush=True)
            continue
        print("ms " + " ".join(f"{v:.2f}" for v in out), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sam-repo", required=True)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=60, help="env steps for the 8-env loop")
    ap.add_argument("--encoder-repeats", type=int, default=5, help="timed set_image calls, after one untimed")
    ap.add_argument("--serve", action="store_true",
                    help="for scripts/bench-paired.ts: answer 'encoder' / 'decoder N' lines on stdin with times")
    ap.add_argument("--image-size", default="320x240", help="test image WxH in px (bench:env's scenes are 320x240)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sam, SamPredictor = build(args.sam_repo, args.fixture)
    rng = np.random.default_rng(0)
    w, h = (int(v) for v in args.image_size.split("x"))
    image = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), image {w}x{h}")

    with torch.no_grad():
        predictor = SamPredictor(sam)
        if args.serve:
            serve(sam, predictor, image)
            return
        predictor.set_image(image)
        enc = timed(lambda: predictor.set_image(image), args.encoder_repeats)
        print(f"set_image (encoder): median {np.median(enc):.0f} ms (min {min(enc):.0f}); all {' '.join(f'{v:.0f}' for v in enc)}")
        pt = np.array([[w * 0.4, h * 0.6]])
        lab = np.array([1])
        timed(lambda: predictor.predict(pt, lab, multimask_output=True, return_logits=True), 3)
        dec = timed(lambda: predictor.predict(pt, lab, multimask_output=True, return_logits=True), 20)
        def decoder_only():
            decoder_call(sam, predictor, pt, lab)

        timed(decoder_only, 3)
        dec_only = timed(decoder_only, 20)
        print(f"mask decoder alone: median {np.median(dec_only):.1f} ms (min {min(dec_only):.1f}, max {max(dec_only):.1f})")
        print(f"predict, 1 point, full-size masks: median {np.median(dec):.1f} ms (min {min(dec):.1f}, max {max(dec):.1f})")

        # 8 envs: one shared embedding (the decoder does not care whose), separate click histories.
        n_env, horizon = 8, 15
        clicks = [[] for _ in range(n_env)]
        prev = [None] * n_env
        t0 = time.perf_counter()
        for step in range(args.steps):
            for e in range(n_env):
                if len(clicks[e]) == horizon:
                    clicks[e], prev[e] = [], None
                clicks[e].append((rng.uniform(0, w), rng.uniform(0, h), int(rng.integers(0, 2))))
                pts = np.array([[x, y] for x, y, _ in clicks[e]])
                labs = np.array([l for _, _, l in clicks[e]])
                _, _, low = predictor.predict(pts, labs, mask_input=prev[e], multimask_output=False)
                prev[e] = low
        dt = time.perf_counter() - t0
        print(f"8 envs x {args.steps} steps: {n_env * args.steps / dt:.2f} env steps/s")


if __name__ == "__main__":
    main()
