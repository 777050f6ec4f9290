"""
Train the micro-SAM with the PyTorch twin of src/sam, on a GPU, from synthetic scenes dumped by
scripts/dump-synthetic-scenes.ts. SAM's recipe (Kirillov et al. 2023, appendix A), scaled down:
every object of a scene is a target in turn (SAM is class-agnostic), the first prompt is a random
foreground point (three masks, the loss on the best one) or, for some batches, a noisy box; then
corrective clicks in the error region (half of them at the error pixel farthest from the region's
edge, as the evaluation's oracle clicks, half uniformly among error pixels), each round with the
previous low-res logits as mask input. Loss per prompt set: BCE + Dice on the full-size mask
logits (SAM uses 20 focal + 1 Dice; that mix collapsed to empty masks in the project's CPU runs,
so the card says BCE + Dice) plus the MSE between predicted and actual IoU.

    python3 scripts/micro-sam-torch/train.py --config models/micro-sam/config.json \
        --train scenes-*.safetensors --test test-scenes.safetensors --out out/ --seconds 300

Writes out/weights.safetensors (official names: `loadSam` reads it with config.json) every
--save-every seconds and at the end, and out/training.json (options, history, a quick oracle
evaluation of the twin; the authoritative numbers come from the tfjs evaluation,
`npm run train:micro-sam -- --eval-only`).
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from sam_twin import Sam, init_like_pytorch, state_dict_for_export  # noqa: E402
from st_io import read_safetensors, write_safetensors  # noqa: E402


# ----------------------------------------------------------------------------- data

def load_scenes(paths: list[str], with_categories: bool = False):
    """images, owners and is_target of every file, concatenated; with_categories adds each object's
    category and the category names (the dump's `categories` tensor and metadata)."""
    images, owners, targets, categories, names = [], [], [], [], set()
    for p in paths:
        t, meta = read_safetensors(p)
        images.append(t["images"]), owners.append(t["owners"]), targets.append(t["is_target"])
        if with_categories:
            if "categories" not in t or "categories" not in meta:
                raise SystemExit(f"{p}: no 'categories' tensor (dump the scenes again)")
            categories.append(t["categories"]), names.add(meta["categories"])
    out = (np.concatenate(images), np.concatenate(owners), np.concatenate(targets))
    if not with_categories:
        return out
    if len(names) != 1:
        raise SystemExit(f"the scene files name different categories: {sorted(names)}")
    return out + (np.concatenate(categories), json.loads(names.pop()))


def dihedral(x: torch.Tensor, k: int, dims=(1, 2)) -> torch.Tensor:
    """One of the 8 symmetries of the square (k in 0..7), on the two spatial dims."""
    if k >= 4:
        x = x.flip(dims[1])
    return torch.rot90(x, k % 4, dims)


# ----------------------------------------------------------------------------- model helpers

def full_size(model: Sam, low_res: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """SAM's postprocess: up to the input size, crop the padding, resize to the original size."""
    s = model.img_size
    x = F.interpolate(low_res, size=(s, s), mode="bilinear", align_corners=False)
    scale = s / max(hw)
    ih, iw = int(hw[0] * scale + 0.5), int(hw[1] * scale + 0.5)
    x = x[..., :ih, :iw]
    if (ih, iw) != hw:
        x = F.interpolate(x, size=hw, mode="bilinear", align_corners=False)
    return x


def mask_losses(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """BCE + Dice per mask. logits [P, M, H, W], gt [P, 1, H, W] in {0, 1}. Returns [P, M]."""
    gt = gt.expand_as(logits)
    bce = F.binary_cross_entropy_with_logits(logits, gt, reduction="none").mean((-2, -1))
    p = logits.sigmoid()
    inter = (p * gt).sum((-2, -1))
    dice = 1 - (2 * inter + 1) / (p.sum((-2, -1)) + gt.sum((-2, -1)) + 1)
    return bce + dice


def hard_iou(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    pred = logits > 0
    g = gt.expand_as(logits) > 0.5
    inter = (pred & g).sum((-2, -1)).float()
    union = (pred | g).sum((-2, -1)).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def error_depth(err: torch.Tensor, iters: int) -> torch.Tensor:
    """Chessboard depth of each error pixel inside its region (image edge counts as boundary)."""
    depth = err.clone()
    cur = err
    for _ in range(iters):
        cur = -F.max_pool2d(-F.pad(cur, (1, 1, 1, 1), value=0.0), 3, stride=1)
        depth = depth + cur
    return depth


def corrective_clicks(pred: torch.Tensor, gt: torch.Tensor, oracle_prob: float, gen: torch.Generator):
    """pred, gt [P, 1, H, W] bool/float. Returns pixel (x, y) [P, 2] (long) and labels [P] (long)."""
    p, _, h, w = gt.shape
    err = (pred != (gt > 0.5)).float()
    depth = error_depth(err, 24).view(p, -1)
    noise = torch.rand(depth.shape, device=depth.device, generator=gen) * 0.5
    deepest = (depth + noise * (depth > 0)).argmax(1)
    weights = err.view(p, -1)
    none = weights.sum(1) == 0
    # A perfect mask leaves nothing to correct: click inside the object again.
    weights = torch.where(none[:, None], gt.view(p, -1), weights) + 1e-12
    uniform = torch.multinomial(weights, 1, generator=gen)[:, 0]
    use_oracle = torch.rand(p, device=gt.device, generator=gen) < oracle_prob
    idx = torch.where(use_oracle & ~none, deepest, uniform)
    labels = gt.view(p, -1).gather(1, idx[:, None])[:, 0].long()
    return torch.stack([idx % w, idx // w], 1), labels


# ----------------------------------------------------------------------------- one training step

def train_step(model: Sam, images: torch.Tensor, owners: torch.Tensor, args, gen: torch.Generator):
    """images uint8 [B, H, W, 3], owners uint8 [B, H, W] on the device. Returns loss, stats."""
    b, h, w = owners.shape
    k = args.objects_per_image
    dev = images.device
    emb = model.image_encoder(model.preprocess(images))
    # Pick k objects per image among those with enough visible pixels (with replacement).
    counts = F.one_hot(owners.long().view(b, -1), 16).sum(1)[:, 1:]
    ok = (counts >= args.min_pixels).float()
    ok = torch.where(ok.sum(1, keepdim=True) > 0, ok, (counts > 0).float())
    ids = torch.multinomial(ok + 1e-12, k, replacement=True, generator=gen) + 1  # [B, k]
    gt = (owners.repeat_interleave(k, 0) == ids.view(-1, 1, 1)).float()[:, None]  # [P, 1, H, W]
    emb_p = emb.repeat_interleave(k, 0)
    p = gt.shape[0]
    scale = model.img_size / max(h, w)

    use_box = bool(torch.rand((), generator=gen, device=dev) < args.box_prob)
    points = torch.zeros(p, 0, 2, device=dev)
    labels = torch.zeros(p, 0, dtype=torch.long, device=dev)
    boxes = None
    if use_box:
        ys = gt[:, 0].amax(2) > 0
        xs = gt[:, 0].amax(1) > 0
        ar = torch.arange(w, device=dev).float()
        x0 = torch.where(xs, ar, float(w)).amin(1)
        x1 = torch.where(xs, ar, -1.0).amax(1) + 1
        y0 = torch.where(ys, ar[:h], float(h)).amin(1)
        y1 = torch.where(ys, ar[:h], -1.0).amax(1) + 1
        box = torch.stack([x0, y0, x1, y1], 1)
        side = torch.stack([x1 - x0, y1 - y0, x1 - x0, y1 - y0], 1)
        noise = torch.randn(box.shape, device=dev, generator=gen) * 0.1 * side
        box = box + noise.clamp(-20, 20)
        boxes = box.clamp(0, max(h, w)) * scale
    else:
        idx = torch.multinomial(gt.view(p, -1) + 1e-12, 1, generator=gen)[:, 0]
        xy = torch.stack([idx % w, idx // w], 1).float()
        points = ((xy + 0.5) * scale)[:, None]
        labels = torch.ones(p, 1, dtype=torch.long, device=dev)

    total = 0.0
    stats = []
    prev_low = None
    pred = None
    for r in range(args.rounds):
        if r > 0:
            xy, lab = corrective_clicks(pred, gt, args.oracle_prob, gen)
            points = torch.cat([points, ((xy.float() + 0.5) * scale)[:, None]], 1)
            labels = torch.cat([labels, lab[:, None]], 1)
        multimask = r == 0 and not use_box
        low, iou_pred = model.decode(emb_p, points if points.shape[1] else None, labels if points.shape[1] else None, boxes, prev_low, multimask)
        full = full_size(model, low, (h, w))
        losses = mask_losses(full, gt)  # [P, M]
        best = losses.argmin(1)
        mask_loss = losses.gather(1, best[:, None])[:, 0].mean()
        with torch.no_grad():
            actual = hard_iou(full, gt)
        iou_loss = F.mse_loss(iou_pred, actual)
        total = total + mask_loss + args.iou_weight * iou_loss
        sel = best[:, None, None, None]
        prev_low = low.gather(1, sel.expand(-1, 1, *low.shape[-2:])).detach()
        pred = full.gather(1, sel.expand(-1, 1, h, w)).detach() > 0
        stats.append(actual.gather(1, best[:, None]).mean().item())
    return total / args.rounds, stats


# ----------------------------------------------------------------------------- quick evaluation

@torch.no_grad()
def oracle_eval(model: Sam, images: np.ndarray, owners: np.ndarray, is_target: np.ndarray, clicks: int, device) -> list[float]:
    """The oracle clicker of src/baselines/oracle-click.ts, approximately (scipy's EDT): deepest
    pixel of the largest error region; click 1 multimask, keep the highest predicted IoU."""
    from scipy import ndimage

    model.eval()
    n, h, w = owners.shape
    gts = np.take_along_axis(is_target, owners.reshape(n, -1).astype(np.int64), 1).reshape(n, h, w) > 0
    emb = torch.cat([model.image_encoder(model.preprocess(torch.from_numpy(images[i:i + 64].copy()).to(device))) for i in range(0, n, 64)])
    scale = model.img_size / max(h, w)
    pred = np.zeros_like(gts)
    pts = [[] for _ in range(n)]
    labs = [[] for _ in range(n)]
    prev = None
    curve = []
    for k in range(clicks):
        for i in range(n):
            fn, fp = gts[i] & ~pred[i], ~gts[i] & pred[i]
            best = None
            for region, label in ((fn, 1), (fp, 0)):
                lab, m = ndimage.label(region, structure=np.ones((3, 3)))
                if m == 0:
                    continue
                sizes = ndimage.sum(region, lab, range(1, m + 1))
                j = int(np.argmax(sizes)) + 1
                if best is None or sizes[j - 1] > best[0]:
                    best = (sizes[j - 1], lab == j, label)
            if best is None:  # perfect: repeat the last click
                pts[i].append(pts[i][-1] if pts[i] else [0.5 * scale, 0.5 * scale])
                labs[i].append(labs[i][-1] if labs[i] else 1)
                continue
            dist = ndimage.distance_transform_edt(np.pad(best[1], 1))[1:-1, 1:-1]
            y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
            pts[i].append([(x + 0.5) * scale, (y + 0.5) * scale])
            labs[i].append(best[2])
        points = torch.tensor(pts, dtype=torch.float32, device=device)
        labels = torch.tensor(labs, dtype=torch.long, device=device)
        low, iou_pred = model.decode(emb, points, labels, None, prev, k == 0)
        best = iou_pred.argmax(1)
        low = low.gather(1, best[:, None, None, None].expand(-1, 1, *low.shape[-2:]))
        prev = low
        full = full_size(model, low, (h, w))[:, 0] > 0
        pred = full.cpu().numpy()
        inter = (pred & gts).sum((1, 2))
        union = (pred | gts).sum((1, 2))
        curve.append(float(np.mean(np.where(union > 0, inter / np.maximum(union, 1), 1.0))))
    model.train()
    return curve


# ----------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--train", nargs="+", required=True, help="scene dumps (globs allowed)")
    ap.add_argument("--test", default=None, help="held-out scene dump for the quick oracle evaluation")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=0, help="fixed step count (0: run for --seconds)")
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--batch", type=int, default=128, help="images per step")
    ap.add_argument("--objects-per-image", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=5, help="prompting rounds per chain (1 + corrective clicks)")
    ap.add_argument("--box-prob", type=float, default=0.1)
    ap.add_argument("--oracle-prob", type=float, default=0.5)
    ap.add_argument("--min-pixels", type=int, default=30)
    ap.add_argument("--lr", type=float, default=8e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--iou-weight", type=float, default=1.0)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--save-every", type=float, default=60, help="seconds between exports")
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--eval-scenes", type=int, default=200)
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    os.makedirs(args.out, exist_ok=True)
    config = json.load(open(args.config))
    model = Sam(config).to(device)
    init_like_pytorch(model, args.seed)
    gen = torch.Generator(device=device).manual_seed(args.seed)
    cpu_gen = torch.Generator().manual_seed(args.seed)

    paths = sorted(p for pattern in args.train for p in glob.glob(pattern))
    t0 = time.time()
    images_np, owners_np, _ = load_scenes(paths)
    images = torch.from_numpy(images_np).to(device)
    owners = torch.from_numpy(owners_np).to(device)
    n = images.shape[0]
    print(f"{n} training scenes from {len(paths)} files in {time.time() - t0:.1f} s on {device}", flush=True)

    # Weight decay on weight matrices and kernels only: not on biases, norms, positional tables
    # or learned embeddings (tokens, point and mask embeddings).
    embedding_ids = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    decay = [p for name, p in model.named_parameters() if p.ndim >= 2 and "pos" not in name and id(p) not in embedding_ids]
    decay_ids = {id(p) for p in decay}
    no_decay = [p for p in model.parameters() if id(p) not in decay_ids]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.99))

    def lr_at(step: int, frac: float) -> float:
        warm = min(1.0, (step + 1) / args.warmup)
        return args.lr * warm * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))

    history = []
    step = 0
    start = time.time()
    last_save = start
    run_iou = None

    def export(tag: str) -> None:
        write_safetensors(os.path.join(args.out, "weights.safetensors"), state_dict_for_export(model),
                          {"producer": "scripts/micro-sam-torch/train.py", "step": str(step)})
        json.dump(config, open(os.path.join(args.out, "config.json"), "w"), indent=2)
        print(f"[{tag}] exported at step {step}", flush=True)

    model.train()
    while True:
        elapsed = time.time() - start
        frac = step / args.steps if args.steps else elapsed / args.seconds
        if frac >= 1.0:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, frac)
        idx = torch.randint(0, n, (args.batch,), generator=cpu_gen).to(device)
        sym = int(torch.randint(0, 8, (1,), generator=cpu_gen))
        imgs = dihedral(images[idx], sym).contiguous()
        owns = dihedral(owners[idx], sym).contiguous()
        loss, ious = train_step(model, imgs, owns, args, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        step += 1
        run_iou = ious if run_iou is None else [0.95 * a + 0.05 * b for a, b in zip(run_iou, ious)]
        if step % args.log_every == 0:
            rec = {"step": step, "seconds": round(time.time() - start, 1), "lr": opt.param_groups[0]["lr"], "loss": float(loss.detach()), "grad_norm": float(gnorm),
                   "iou_by_round": [round(x, 4) for x in run_iou]}
            history.append(rec)
            print(json.dumps(rec), flush=True)
        if time.time() - last_save > args.save_every:
            export("periodic")
            last_save = time.time()
    train_seconds = time.time() - start
    export("final")

    evaluation = None
    if args.test:
        t, _ = read_safetensors(args.test)
        m = min(args.eval_scenes, t["images"].shape[0])
        curve = oracle_eval(model, t["images"][:m], t["owners"][:m], t["is_target"][:m], 5, device)
        evaluation = {"scenes": m, "miou_at_click": curve}
        print("twin oracle eval mIoU@1..5:", [round(c, 4) for c in curve], flush=True)
    json.dump({"steps": step, "training_seconds": round(train_seconds, 1), "device": str(torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"),
               "torch": torch.__version__, "scenes": n, "options": vars(args), "history": history, "twin_evaluation": evaluation},
              open(os.path.join(args.out, "training.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
