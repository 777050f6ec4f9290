"""
Fine-tune the micro-SAM's prompt encoder and mask decoder for the prompting env's episodes: long
chains of clicks on grid-cell centres, each labelled at the cell centre, with the previous low-res
logits as mask input. The image encoder stays frozen, so image embeddings (and the caches and SRMs
built on them) do not change.

Why: the pre-trained model saw at most 5 rounds of clicks at error pixels. In the env, clicks land
on cell centres chosen by a policy, not by an oracle; with 15 of them, the pre-trained model loses
IoU as correct clicks accumulate. Each chain here uses one click policy: the oracle's deepest error
cell, a uniformly random cell, or a cell near the object (where a learned policy tends to click).
The first prompt is the env's P0 (one positive and one negative cell) or, for some chains, one
positive pixel with three masks, as in pre-training. A small fraction of click labels is flipped
(`--label-noise`): the env's labels come from a learned module and are sometimes wrong.

    python3 scripts/micro-sam-torch/finetune_clicks.py --weights models/micro-sam \\
        --train 'scenes/train-*.safetensors' --val scenes/val.safetensors --out out/ --seconds 1500

With `--train-encoder`, the image encoder trains too (at `--encoder-lr-scale` times the rate), and
`--category-loss W` adds an auxiliary loss: a linear head on the image embedding predicts, per
embedding cell, the fraction of its pixels that belong to each shape category (and the background),
as a cross-entropy weighted W. The head is dropped at export. It stands in for the semantic
richness of real SAM features, which a class-agnostic micro-SAM trained on eight shapes lacks: a
recalibration module reading the embedding can then tell a star from a square. Scenes need the
dump's `categories` tensor for it.

Runs on CPU. Without `--train-encoder` only the decoder trains and embeddings are computed once.
Writes out/weights.safetensors (official names) and out/training.json (options, history, the
val-split chain evaluation before and after). The authoritative numbers come from the tfjs model in
the env.
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
from sam_twin import Sam, state_dict_for_export  # noqa: E402
from st_io import read_safetensors, write_safetensors  # noqa: E402
from train import error_depth, full_size, hard_iou, load_scenes, mask_losses  # noqa: E402

POLICIES = ("oracle", "random", "near")


def load_model(folder: str) -> Sam:
    config = json.load(open(os.path.join(folder, "config.json")))
    weights, _ = read_safetensors(os.path.join(folder, "weights.safetensors"))
    model = Sam(config)
    model.load_state_dict({k: torch.from_numpy(np.array(v, copy=True)) for k, v in weights.items()}, strict=True)
    return model


@torch.no_grad()
def embed_all(model: Sam, images: np.ndarray, chunk: int = 128) -> torch.Tensor:
    out = []
    for i in range(0, images.shape[0], chunk):
        out.append(model.image_encoder(model.preprocess(torch.from_numpy(images[i:i + chunk].copy()))))
    return torch.cat(out)


class Grid:
    """A G x G action grid over an H x W image, as src/env/prompt/action-grid.ts defines it."""

    def __init__(self, g: int, h: int, w: int):
        self.g, self.h, self.w = g, h, w
        rows = torch.clamp((torch.arange(h) * g) // h, max=g - 1)
        cols = torch.clamp((torch.arange(w) * g) // w, max=g - 1)
        self.cell_of_pixel = (rows[:, None] * g + cols[None, :]).view(-1)  # [H*W]
        c = torch.arange(g * g)
        self.centre_xy = torch.stack([((c % g).float() + 0.5) * w / g, ((c // g).float() + 0.5) * h / g], 1)  # [C, 2]
        px = self.centre_xy.floor().long()
        self.centre_pixel = px[:, 1].clamp(max=h - 1) * w + px[:, 0].clamp(max=w - 1)  # [C]

    def fractions(self, masks: torch.Tensor) -> torch.Tensor:
        """masks [P, H, W] -> fraction of each cell's pixels inside, [P, C]."""
        p = masks.shape[0]
        sums = torch.zeros(p, self.g * self.g).index_add_(1, self.cell_of_pixel, masks.view(p, -1).float())
        counts = torch.zeros(self.g * self.g).index_add_(0, self.cell_of_pixel, torch.ones(self.h * self.w))
        return sums / counts

    def centre_labels(self, masks: torch.Tensor) -> torch.Tensor:
        return masks.view(masks.shape[0], -1)[:, self.centre_pixel].long()  # [P, C]


def sample_cells(weights: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One cell per row with probability proportional to weights [P, C]; rows of zeros pick uniformly."""
    empty = weights.sum(1, keepdim=True) <= 0
    w = torch.where(empty, torch.ones_like(weights), weights)
    return torch.multinomial(w, 1, generator=gen)[:, 0]


def first_prompt(gt: torch.Tensor, objects: torch.Tensor, grid: Grid, env_like: bool, p0_miss: float, gen: torch.Generator):
    """P0: the env's (a positive and a negative cell centre) or one positive pixel (three masks).
    With probability p0_miss the positive cell lies outside the object, on another object where
    there is one (the labeler's top cell sometimes misses the target). Returns points [P, N, 2],
    labels [P, N] and the clicked cells [P, C]."""
    p, h, w = gt.shape
    clicked = torch.zeros(p, grid.g * grid.g, dtype=torch.bool)
    if not env_like:
        pixel = torch.multinomial(gt.view(p, -1).float() + 1e-12, 1, generator=gen)[:, 0]
        xy = torch.stack([(pixel % w).float() + 0.5, (pixel // w).float() + 0.5], 1)
        return xy[:, None], torch.ones(p, 1, dtype=torch.long), clicked
    centre = grid.centre_labels(gt)
    pos_cell = sample_cells((centre == 1).float() * (grid.fractions(gt) + 0.05), gen)
    miss_cell = sample_cells((centre == 0).float() * (grid.fractions(objects & ~gt) + 0.05), gen)
    pos_cell = torch.where(torch.rand(p, generator=gen) < p0_miss, miss_cell, pos_cell)
    neg_cell = sample_cells((centre == 0).float(), gen)
    rows = torch.arange(p)
    clicked[rows, pos_cell] = True
    clicked[rows, neg_cell] = True
    points = torch.stack([grid.centre_xy[pos_cell], grid.centre_xy[neg_cell]], 1)
    labels = torch.tensor([1, 0]).repeat(p, 1)
    return points, labels, clicked


def next_click(pred: torch.Tensor, gt: torch.Tensor, grid: Grid, clicked: torch.Tensor, policy: torch.Tensor, gen: torch.Generator):
    """One click per chain on an unclicked cell centre, chosen by the chain's policy
    (0 oracle: the cell of the deepest error pixel; 1 uniform; 2 near the object)."""
    p = gt.shape[0]
    free = ~clicked
    err = (pred != gt).float()
    depth = error_depth(err[:, None], 24)[:, 0].view(p, -1)
    free_px = free.gather(1, grid.cell_of_pixel[None].expand(p, -1))
    noise = torch.rand(depth.shape, generator=gen) * 0.5
    deepest = torch.where(free_px, depth + noise * (depth > 0), torch.full_like(depth, -1.0)).argmax(1)
    oracle_cell = grid.cell_of_pixel[deepest]
    uniform_cell = sample_cells(free.float(), gen)
    near = F.max_pool2d(gt[:, None].float(), 2 * (grid.h // grid.g) + 1, stride=1, padding=grid.h // grid.g)[:, 0]
    near_cell = sample_cells(free.float() * (grid.fractions(near) > 0).float(), gen)
    cell = torch.where(policy == 0, oracle_cell, torch.where(policy == 1, uniform_cell, near_cell))
    label = grid.centre_labels(gt).gather(1, cell[:, None])[:, 0]
    clicked = clicked.clone()
    clicked[torch.arange(p), cell] = True
    return grid.centre_xy[cell], label, clicked


def run_chain(model: Sam, emb: torch.Tensor, gt: torch.Tensor, objects: torch.Tensor, grid: Grid, env_like: bool, policy: torch.Tensor,
              rounds: int, label_noise: float, p0_miss: float, gen: torch.Generator, train_rounds: set[int]):
    """Decode P0 and `rounds` clicks; the loss (and gradients) come from the decodes in train_rounds
    (the others run without autograd: the chain needs them, the update does not).
    Returns (mean loss over train_rounds or None, IoU [P, rounds + 1])."""
    p, h, w = gt.shape
    train = bool(train_rounds)
    points, labels, clicked = first_prompt(gt, objects, grid, env_like, p0_miss, gen)
    gt4 = gt[:, None].float()
    prev_low, pred, total, ious = None, None, 0.0, []
    for r in range(rounds + 1):
        if r > 0:
            xy, lab, clicked = next_click(pred, gt, grid, clicked, policy, gen)
            if label_noise > 0:
                flip = torch.rand(p, generator=gen) < label_noise
                lab = torch.where(flip, 1 - lab, lab)
            points = torch.cat([points, xy[:, None]], 1)
            labels = torch.cat([labels, lab[:, None]], 1)
        # Three masks only for a single point (the env's 'single-point' multimask rule).
        multimask = points.shape[1] == 1
        with torch.set_grad_enabled(r in train_rounds):
            low, iou_pred = model.decode(emb, points, labels, None, prev_low, multimask)
            full = full_size(model, low, (h, w))
            losses = mask_losses(full, gt4)  # [P, M]
        best = (losses.argmin(1) if train else iou_pred.argmax(1))[:, None]
        if r in train_rounds:
            total = total + losses.gather(1, best)[:, 0].mean() + F.mse_loss(iou_pred, hard_iou(full.detach(), gt4))
        sel = best[:, :, None, None]
        prev_low = low.gather(1, sel.expand(-1, 1, *low.shape[-2:])).detach()
        full = full.gather(1, sel.expand(-1, 1, h, w)).detach()
        ious.append(hard_iou(full, gt4)[:, 0])
        pred = full[:, 0] > 0
    return (total / len(train_rounds) if train else None), torch.stack(ious, 1)


def category_fractions(owners: np.ndarray, categories: np.ndarray, n_categories: int, grid: int) -> torch.Tensor:
    """Per embedding cell, the fraction of its pixels of each class (0 = background, c = category
    c): [N, n_categories + 1, grid, grid]."""
    out = []
    # In chunks: the one-hot maps of a whole training set would take gigabytes.
    for i in range(0, owners.shape[0], 256):
        own, cat = owners[i:i + 256], categories[i:i + 256]
        cls = np.take_along_axis(cat, own.reshape(own.shape[0], -1).astype(np.int64), 1).reshape(own.shape)
        one_hot = F.one_hot(torch.from_numpy(cls.astype(np.int64)), n_categories + 1).permute(0, 3, 1, 2).float()
        out.append(F.adaptive_avg_pool2d(one_hot, grid))
    return torch.cat(out)


class CategoryHead(torch.nn.Module):
    """A 1 x 1 convolution from the image embedding to per-cell class logits (training only)."""

    def __init__(self, channels: int, classes: int):
        super().__init__()
        self.conv = torch.nn.Conv2d(channels, classes, 1)

    def loss(self, emb: torch.Tensor, fractions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Soft cross-entropy against the cell fractions, and the share of cells whose largest class
        the head names."""
        logits = self.conv(emb)
        loss = -(fractions * F.log_softmax(logits, 1)).sum(1).mean()
        acc = (logits.argmax(1) == fractions.argmax(1)).float().mean()
        return loss, acc


def object_masks(owners: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(owners > 0)


def target_masks(owners: np.ndarray, is_target: np.ndarray) -> torch.Tensor:
    n = owners.shape[0]
    return torch.from_numpy(np.take_along_axis(is_target, owners.reshape(n, -1).astype(np.int64), 1).reshape(owners.shape) > 0)


@torch.no_grad()
def evaluate(model: Sam, emb: torch.Tensor, gt: torch.Tensor, objects: torch.Tensor, grid: Grid, rounds: int, seed: int) -> dict:
    """Env-like chains on the val split's targets, ground-truth labels: the oracle's, random and
    near cells, and the oracle's after a P0 whose positive cell misses the target."""
    model.eval()
    out = {}
    for name, pol, miss in (("oracle", 0, 0.0), ("random", 1, 0.0), ("near", 2, 0.0), ("oracle_p0_miss", 0, 1.0)):
        gen = torch.Generator().manual_seed(seed)
        curves = []
        for i in range(0, gt.shape[0], 100):
            g = gt[i:i + 100]
            _, ious = run_chain(model, emb[i:i + 100], g, objects[i:i + 100], grid, True, torch.full((g.shape[0],), pol), rounds, 0.0, miss, gen, set())
            curves.append(ious)
        out[name] = [round(float(x), 4) for x in torch.cat(curves).mean(0)]
    model.train()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True, help="folder with config.json and weights.safetensors")
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=1500)
    ap.add_argument("--images", type=int, default=16, help="images per step")
    ap.add_argument("--objects-per-image", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=15, help="clicks after P0")
    ap.add_argument("--grids", type=int, nargs="+", default=[16, 16, 10, 20, 32])
    ap.add_argument("--env-like", type=float, default=0.8, help="fraction of steps whose chains start with the env's P0")
    ap.add_argument("--policy-probs", type=float, nargs=3, default=[0.4, 0.3, 0.3], help="oracle, random, near")
    ap.add_argument("--target-prob", type=float, default=0.5, help="fraction of chains on the scene's target (else any object)")
    ap.add_argument("--label-noise", type=float, default=0.1, help="fraction of click labels flipped")
    ap.add_argument("--p0-miss", type=float, default=0.1, help="fraction of env-like P0 whose positive cell misses the object")
    ap.add_argument("--train-rounds", type=int, default=5, help="decodes per chain that carry the loss (P0's always does)")
    ap.add_argument("--min-pixels", type=int, default=30)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-scenes", type=int, default=300)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--train-encoder", action="store_true", help="train the image encoder too (embeddings change)")
    ap.add_argument("--encoder-lr-scale", type=float, default=0.5, help="the encoder's rate relative to --lr")
    ap.add_argument("--category-loss", type=float, default=0.0, help="weight of the auxiliary per-cell category loss (needs --train-encoder)")
    args = ap.parse_args()
    if args.category_loss > 0 and not args.train_encoder:
        ap.error("--category-loss trains the embedding: it needs --train-encoder")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    model = load_model(args.weights)
    config = json.load(open(os.path.join(args.weights, "config.json")))
    for p in model.image_encoder.parameters():
        p.requires_grad_(args.train_encoder)
    t0 = time.time()
    paths = sorted(p for pattern in args.train for p in glob.glob(pattern))
    images, owners_np, targets_np, *category_data = load_scenes(paths, with_categories=args.category_loss > 0)
    emb = None if args.train_encoder else embed_all(model, images)
    owners = torch.from_numpy(owners_np)
    target_gt = target_masks(owners_np, targets_np)
    vt, _ = read_safetensors(args.val)
    m = min(args.val_scenes, vt["images"].shape[0])
    val_emb = embed_all(model, vt["images"][:m])
    val_gt = target_masks(vt["owners"][:m], vt["is_target"][:m])
    val_objects = object_masks(vt["owners"][:m])
    n, h, w = owners.shape
    head, fractions, val_fractions = None, None, None
    if category_data:
        cats, names = category_data
        if "categories" not in vt:
            raise SystemExit(f"{args.val}: no 'categories' tensor (dump the scenes again)")
        n_cat = len(names)
        fractions = category_fractions(owners_np, cats, n_cat, model.grid)
        val_fractions = category_fractions(vt["owners"][:m], vt["categories"][:m], n_cat, model.grid)
        head = CategoryHead(val_emb.shape[1], n_cat + 1)
    print(f"{n} training scenes, {m} val scenes embedded in {time.time() - t0:.1f} s", flush=True)
    val_grid = Grid(16, h, w)
    before = evaluate(model, val_emb, val_gt, val_objects, val_grid, args.rounds, args.seed)
    print("before:", json.dumps(before), flush=True)

    params = [p for name, p in model.named_parameters() if not name.startswith("image_encoder.")]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": args.weight_decay, "scale": 1.0}, {"params": no_decay, "weight_decay": 0.0, "scale": 1.0}]
    if args.train_encoder:
        enc = list(model.image_encoder.named_parameters())
        # Positional tables, norms and biases take no decay, as in pre-training.
        decays = [p.ndim >= 2 and "pos" not in name for name, p in enc]
        groups.append({"params": [p for (_, p), d in zip(enc, decays) if d], "weight_decay": args.weight_decay, "scale": args.encoder_lr_scale})
        groups.append({"params": [p for (_, p), d in zip(enc, decays) if not d], "weight_decay": 0.0, "scale": args.encoder_lr_scale})
    if head is not None:
        groups.append({"params": list(head.parameters()), "weight_decay": 0.0, "scale": 1.0})
    params = [p for g in groups for p in g["params"]]
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.99))
    gen = torch.Generator().manual_seed(args.seed)
    grids = {g: Grid(g, h, w) for g in set(args.grids)}
    policy_probs = torch.tensor(args.policy_probs)
    history, step, start, run_iou = [], 0, time.time(), None
    model.train()
    while True:
        frac = (time.time() - start) / args.seconds
        if frac >= 1.0:
            break
        for group in opt.param_groups:
            group["lr"] = group["scale"] * args.lr * min(1.0, (step + 1) / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        k = args.objects_per_image
        idx = torch.randint(0, n, (args.images,), generator=gen)
        own = owners[idx].repeat_interleave(k, 0)
        counts = F.one_hot(owners[idx].long().view(args.images, -1), 16).sum(1)[:, 1:]
        ok = (counts >= args.min_pixels).float()
        ok = torch.where(ok.sum(1, keepdim=True) > 0, ok, (counts > 0).float())
        ids = (torch.multinomial(ok + 1e-12, k, replacement=True, generator=gen) + 1).view(-1)
        obj = own == ids.view(-1, 1, 1)
        p = obj.shape[0]
        use_target = (torch.rand(p, generator=gen) < args.target_prob) & target_gt[idx].repeat_interleave(k, 0).flatten(1).any(1)
        gt = torch.where(use_target[:, None, None], target_gt[idx].repeat_interleave(k, 0), obj)
        grid = grids[args.grids[int(torch.randint(0, len(args.grids), (1,), generator=gen))]]
        env_like = bool(torch.rand((), generator=gen) < args.env_like)
        policy = torch.multinomial(policy_probs, p, replacement=True, generator=gen)
        later = torch.randperm(args.rounds, generator=gen)[:args.train_rounds - 1] + 1
        train_rounds = {0, *later.tolist()}
        objects = (own > 0)
        step_emb = model.image_encoder(model.preprocess(torch.from_numpy(images[idx.numpy()]))) if args.train_encoder else emb[idx]
        loss, ious = run_chain(model, step_emb.repeat_interleave(k, 0), gt, objects, grid, env_like, policy, args.rounds,
                               args.label_noise, args.p0_miss, gen, train_rounds)
        cat_loss, cat_acc = (None, None)
        if head is not None:
            cat_loss, cat_acc = head.loss(step_emb, fractions[idx])
            loss = loss + args.category_loss * cat_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(params, args.clip)
        opt.step()
        step += 1
        curve = ious.mean(0).tolist()
        run_iou = curve if run_iou is None else [0.9 * a + 0.1 * b for a, b in zip(run_iou, curve)]
        if step % args.log_every == 0:
            rec = {"step": step, "seconds": round(time.time() - start, 1), "lr": opt.param_groups[0]["lr"], "loss": round(float(loss), 4),
                   "grad_norm": round(float(gnorm), 3), "iou_by_round": [round(x, 3) for x in run_iou]}
            if cat_loss is not None:
                rec.update(category_loss=round(float(cat_loss), 4), category_acc=round(float(cat_acc), 3))
            history.append(rec)
            print(json.dumps(rec), flush=True)
    train_seconds = time.time() - start
    write_safetensors(os.path.join(args.out, "weights.safetensors"), state_dict_for_export(model),
                      {"producer": "scripts/micro-sam-torch/finetune_clicks.py", "step": str(step)})
    json.dump(config, open(os.path.join(args.out, "config.json"), "w"), indent=2)
    if args.train_encoder:
        val_emb = embed_all(model, vt["images"][:m])
    after = evaluate(model, val_emb, val_gt, val_objects, val_grid, args.rounds, args.seed)
    if head is not None:
        with torch.no_grad():
            after["category_loss"], after["category_acc"] = (round(float(x), 4) for x in head.loss(val_emb, val_fractions))
    print("after:", json.dumps(after), flush=True)
    json.dump({"steps": step, "encoder_trained": args.train_encoder, "training_seconds": round(train_seconds, 1), "device": "cpu", "threads": args.threads, "torch": torch.__version__,
               "scenes": n, "options": vars(args), "history": history, "val_before": before, "val_after": after},
              open(os.path.join(args.out, "training.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
