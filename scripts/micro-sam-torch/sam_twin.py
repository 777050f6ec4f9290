"""
A PyTorch twin of the project's SAM (src/sam), for training the micro-SAM on a GPU.

The project's model is the official Segment Anything architecture ported to TensorFlow.js; this
file writes the same architecture in PyTorch with the official tensor names and layouts, so that a
state dict saved from it is what `loadSam` reads. It exists for one job: training. Inference,
evaluation and everything users run stay in TypeScript. `check_twin.py` writes the twin's outputs
for random weights and `test/sam-training/torch-twin.test.ts` checks that the tfjs model gives the
same numbers, so the twin cannot drift from src/sam unnoticed.

The config is the project's `config.json` (snake_case, see src/sam/config.ts).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel axis of an NCHW tensor."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class MLPBlock(nn.Module):
    def __init__(self, dim: int, hidden: int, act: type[nn.Module]):
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin2(self.act(self.lin1(x)))


# ----------------------------------------------------------------------------- image encoder

def relative_table(q_size: int, k_size: int, rel_pos: torch.Tensor) -> torch.Tensor:
    """Rows of `rel_pos` for every (query, key) offset: [q_size, k_size, head_dim]."""
    if rel_pos.shape[0] != 2 * max(q_size, k_size) - 1:
        raise ValueError(f"rel_pos has {rel_pos.shape[0]} rows, expected {2 * max(q_size, k_size) - 1}")
    q = torch.arange(q_size, device=rel_pos.device)[:, None] * max(k_size / q_size, 1.0)
    k = torch.arange(k_size, device=rel_pos.device)[None, :] * max(q_size / k_size, 1.0)
    offset = (q - k) + (k_size - 1) * max(q_size / k_size, 1.0)
    return rel_pos[offset.long()]


class ViTAttention(nn.Module):
    def __init__(self, dim: int, heads: int, qkv_bias: bool, use_rel_pos: bool, grid: int):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * grid - 1, self.head_dim))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * grid - 1, self.head_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, b * self.heads, h * w, self.head_dim).unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if self.use_rel_pos:
            rh = relative_table(h, h, self.rel_pos_h)
            rw = relative_table(w, w, self.rel_pos_w)
            rq = q.reshape(b * self.heads, h, w, self.head_dim)
            bias_h = torch.einsum("bhwc,hkc->bhwk", rq, rh)
            bias_w = torch.einsum("bhwc,wkc->bhwk", rq, rw)
            attn = (attn.view(-1, h, w, h, w) + bias_h[:, :, :, :, None] + bias_w[:, :, :, None, :]).view(-1, h * w, h * w)
        attn = attn.softmax(dim=-1)
        out = (attn @ v).view(b, self.heads, h, w, self.head_dim).permute(0, 2, 3, 1, 4).reshape(b, h, w, c)
        return self.proj(out)


def to_windows(x: torch.Tensor, size: int) -> tuple[torch.Tensor, tuple[int, int]]:
    b, h, w, c = x.shape
    ph, pw = (size - h % size) % size, (size - w % size) % size
    if ph or pw:
        x = F.pad(x, (0, 0, 0, pw, 0, ph))
    hp, wp = h + ph, w + pw
    x = x.view(b, hp // size, size, wp // size, size, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, size, size, c), (hp, wp)


def from_windows(windows: torch.Tensor, size: int, padded: tuple[int, int], hw: tuple[int, int]) -> torch.Tensor:
    hp, wp = padded
    b = windows.shape[0] // ((hp // size) * (wp // size))
    x = windows.view(b, hp // size, wp // size, size, size, -1).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, -1)
    return x[:, : hw[0], : hw[1], :].contiguous()


class ViTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, qkv_bias: bool, use_rel_pos: bool, window: int, grid: int, eps: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = ViTAttention(dim, heads, qkv_bias, use_rel_pos, window if window > 0 else grid)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MLPBlock(dim, int(dim * mlp_ratio), nn.GELU)
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.norm1(x)
        if self.window > 0:
            h, w = x.shape[1], x.shape[2]
            x, padded = to_windows(x, self.window)
            x = from_windows(self.attn(x), self.window, padded, (h, w))
        else:
            x = self.attn(x)
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch: int, in_chans: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).permute(0, 2, 3, 1)


class ImageEncoder(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        dim, grid = cfg["embed_dim"], cfg["img_size"] // cfg["patch_size"]
        self.img_size = cfg["img_size"]
        self.patch_embed = PatchEmbed(cfg["patch_size"], cfg["in_chans"], dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, grid, grid, dim)) if cfg["use_abs_pos"] else None
        global_idx = set(cfg["global_attn_indexes"])
        self.blocks = nn.ModuleList(
            ViTBlock(dim, cfg["num_heads"], cfg["mlp_ratio"], cfg["qkv_bias"], cfg["use_rel_pos"],
                     0 if i in global_idx else cfg["window_size"], grid, cfg.get("norm_eps", 1e-6))
            for i in range(cfg["depth"])
        )
        out = cfg["out_chans"]
        self.neck = nn.Sequential(
            nn.Conv2d(dim, out, kernel_size=1, bias=False), LayerNorm2d(out),
            nn.Conv2d(out, out, kernel_size=3, padding=1, bias=False), LayerNorm2d(out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        if self.pos_embed is not None:
            x = x + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.neck(x.permute(0, 3, 1, 2))


# ----------------------------------------------------------------------------- prompt encoder

class RandomFourierPE(nn.Module):
    def __init__(self, feats: int):
        super().__init__()
        self.register_buffer("positional_encoding_gaussian_matrix", torch.randn(2, feats))

    def encode(self, unit_xy: torch.Tensor) -> torch.Tensor:
        proj = (2 * unit_xy - 1) @ self.positional_encoding_gaussian_matrix
        proj = 2 * math.pi * proj
        return torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)

    def grid(self, h: int, w: int) -> torch.Tensor:
        dev = self.positional_encoding_gaussian_matrix.device
        ys = (torch.arange(h, device=dev, dtype=torch.float32) + 0.5) / h
        xs = (torch.arange(w, device=dev, dtype=torch.float32) + 0.5) / w
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")
        return self.encode(torch.stack([xx, yy], dim=-1)).permute(2, 0, 1)


class PromptEncoder(nn.Module):
    def __init__(self, cfg: dict, img_size: int, grid: int):
        super().__init__()
        dim, mic = cfg["embed_dim"], cfg["mask_in_chans"]
        self.img_size, self.grid = img_size, grid
        self.pe_layer = RandomFourierPE(dim // 2)
        self.point_embeddings = nn.ModuleList(nn.Embedding(1, dim) for _ in range(4))
        self.not_a_point_embed = nn.Embedding(1, dim)
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, mic // 4, kernel_size=2, stride=2), LayerNorm2d(mic // 4), nn.GELU(),
            nn.Conv2d(mic // 4, mic, kernel_size=2, stride=2), LayerNorm2d(mic), nn.GELU(),
            nn.Conv2d(mic, dim, kernel_size=1),
        )
        self.no_mask_embed = nn.Embedding(1, dim)

    def dense_pe(self) -> torch.Tensor:
        return self.pe_layer.grid(self.grid, self.grid)[None]

    def embed_points(self, points_xy: torch.Tensor, labels: torch.Tensor, pad: bool) -> torch.Tensor:
        """points_xy [B, N, 2] in input-frame pixels, labels [B, N] (1 fg, 0 bg, -1 padding)."""
        points_xy = points_xy + 0.5
        if pad:
            points_xy = torch.cat([points_xy, points_xy.new_zeros(points_xy.shape[0], 1, 2)], dim=1)
            labels = torch.cat([labels, -labels.new_ones(labels.shape[0], 1)], dim=1)
        emb = self.pe_layer.encode(points_xy / self.img_size)
        lab = labels[..., None]
        emb = torch.where(lab == -1, self.not_a_point_embed.weight, emb)
        emb = emb + (lab == 0) * self.point_embeddings[0].weight + (lab == 1) * self.point_embeddings[1].weight
        return emb

    def embed_boxes(self, boxes_xyxy: torch.Tensor) -> torch.Tensor:
        corners = self.pe_layer.encode((boxes_xyxy.reshape(-1, 2, 2) + 0.5) / self.img_size)
        return torch.stack([corners[:, 0] + self.point_embeddings[2].weight[0], corners[:, 1] + self.point_embeddings[3].weight[0]], dim=1)

    def forward(self, points_xy, labels, boxes_xyxy, mask_logits, batch: int):
        sparse = []
        if points_xy is not None:
            sparse.append(self.embed_points(points_xy, labels, pad=boxes_xyxy is None))
        if boxes_xyxy is not None:
            sparse.append(self.embed_boxes(boxes_xyxy))
        dim = self.no_mask_embed.weight.shape[1]
        sparse_t = torch.cat(sparse, dim=1) if sparse else self.no_mask_embed.weight.new_zeros(batch, 0, dim)
        if mask_logits is not None:
            dense = self.mask_downscaling(mask_logits)
        else:
            dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(batch, -1, self.grid, self.grid)
        return sparse_t, dense


# ----------------------------------------------------------------------------- mask decoder

class TokenAttention(nn.Module):
    def __init__(self, dim: int, heads: int, downsample: int = 1):
        super().__init__()
        inner = dim // downsample
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(dim, inner), nn.Linear(dim, inner), nn.Linear(dim, inner)
        self.out_proj = nn.Linear(inner, dim)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        return x.reshape(b, n, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        q, k, v = self.split(self.q_proj(q)), self.split(self.k_proj(k)), self.split(self.v_proj(v))
        attn = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        out = attn.softmax(dim=-1) @ v
        b, h, n, c = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, h * c))


class TwoWayBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_dim: int, downsample: int, eps: float, skip_first_pe: bool):
        super().__init__()
        self.self_attn = TokenAttention(dim, heads)
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.cross_attn_token_to_image = TokenAttention(dim, heads, downsample)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MLPBlock(dim, mlp_dim, nn.ReLU)
        self.norm3 = nn.LayerNorm(dim, eps=eps)
        self.norm4 = nn.LayerNorm(dim, eps=eps)
        self.cross_attn_image_to_token = TokenAttention(dim, heads, downsample)
        self.skip_first_pe = skip_first_pe

    def forward(self, queries, keys, query_pe, key_pe):
        if self.skip_first_pe:
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.norm1(queries)
        queries = self.norm2(queries + self.cross_attn_token_to_image(queries + query_pe, keys + key_pe, keys))
        queries = self.norm3(queries + self.mlp(queries))
        keys = self.norm4(keys + self.cross_attn_image_to_token(keys + key_pe, queries + query_pe, queries))
        return queries, keys


class TwoWayTransformer(nn.Module):
    def __init__(self, cfg: dict, dim: int):
        super().__init__()
        eps = cfg.get("layernorm_eps", 1e-5)
        self.layers = nn.ModuleList(
            TwoWayBlock(dim, cfg["num_heads"], cfg["mlp_dim"], cfg["attention_downsample_rate"], eps, i == 0)
            for i in range(cfg["depth"])
        )
        self.final_attn_token_to_image = TokenAttention(dim, cfg["num_heads"], cfg["attention_downsample_rate"])
        self.norm_final_attn = nn.LayerNorm(dim, eps=eps)

    def forward(self, image: torch.Tensor, image_pe: torch.Tensor, tokens: torch.Tensor):
        keys = image.flatten(2).transpose(1, 2)
        key_pe = image_pe.flatten(2).transpose(1, 2)
        queries = tokens
        for layer in self.layers:
            queries, keys = layer(queries, keys, tokens, key_pe)
        queries = self.norm_final_attn(queries + self.final_attn_token_to_image(queries + tokens, keys + key_pe, keys))
        return queries, keys


class MLP(nn.Module):
    def __init__(self, d_in: int, hidden: int, d_out: int, depth: int):
        super().__init__()
        dims = [d_in] + [hidden] * (depth - 1) + [d_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class MaskDecoder(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        dim = cfg["transformer_dim"]
        self.transformer = TwoWayTransformer(cfg["transformer"], dim)
        self.num_mask_tokens = cfg["num_multimask_outputs"] + 1
        self.iou_token = nn.Embedding(1, dim)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, dim)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(dim, dim // 4, kernel_size=2, stride=2), LayerNorm2d(dim // 4), nn.GELU(),
            nn.ConvTranspose2d(dim // 4, dim // 8, kernel_size=2, stride=2), nn.GELU(),
        )
        self.output_hypernetworks_mlps = nn.ModuleList(MLP(dim, dim, dim // 8, 3) for _ in range(self.num_mask_tokens))
        self.iou_prediction_head = MLP(dim, cfg["iou_head_hidden_dim"], self.num_mask_tokens, cfg["iou_head_depth"])

    def forward(self, image: torch.Tensor, image_pe: torch.Tensor, sparse: torch.Tensor, dense: torch.Tensor, multimask: bool):
        """image [B, C, h, w]: one embedding per prompt set (already gathered)."""
        b = sparse.shape[0]
        out_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0)[None].expand(b, -1, -1)
        tokens = torch.cat([out_tokens, sparse], dim=1)
        src = image + dense
        _, c, h, w = src.shape
        hs, src = self.transformer(src, image_pe, tokens)
        iou_out, mask_out = hs[:, 0], hs[:, 1: 1 + self.num_mask_tokens]
        up = self.output_upscaling(src.transpose(1, 2).reshape(b, c, h, w))
        hyper = torch.stack([mlp(mask_out[:, i]) for i, mlp in enumerate(self.output_hypernetworks_mlps)], dim=1)
        bu, cu, hu, wu = up.shape
        masks = (hyper @ up.view(bu, cu, hu * wu)).view(bu, -1, hu, wu)
        iou = self.iou_prediction_head(iou_out)
        sel = slice(1, None) if multimask else slice(0, 1)
        return masks[:, sel], iou[:, sel]


class Sam(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        enc = config["image_encoder"]
        self.img_size = enc["img_size"]
        self.grid = enc["img_size"] // enc["patch_size"]
        self.image_encoder = ImageEncoder(enc)
        self.prompt_encoder = PromptEncoder(config["prompt_encoder"], self.img_size, self.grid)
        self.mask_decoder = MaskDecoder(config["mask_decoder"])
        self.register_buffer("pixel_mean", torch.tensor(config["pixel_mean"]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(config["pixel_std"]).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, rgb_uint8_nhwc: torch.Tensor) -> torch.Tensor:
        """Images already at the input size (longest side = img_size), uint8 NHWC: normalised, padded NCHW."""
        x = (rgb_uint8_nhwc.permute(0, 3, 1, 2).float() - self.pixel_mean) / self.pixel_std
        h, w = x.shape[-2:]
        return F.pad(x, (0, self.img_size - w, 0, self.img_size - h))

    def decode(self, embeddings, points_xy, labels, boxes_xyxy, mask_logits, multimask: bool):
        sparse, dense = self.prompt_encoder(points_xy, labels, boxes_xyxy, mask_logits, embeddings.shape[0])
        return self.mask_decoder(embeddings, self.prompt_encoder.dense_pe(), sparse, dense, multimask)


def init_like_pytorch(model: Sam, seed: int) -> None:
    """PyTorch's default initialisation, from a seeded generator (the Fourier matrix is N(0, 1))."""
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.LayerNorm, nn.Embedding)):
            m.reset_parameters()
    with torch.no_grad():
        model.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix.normal_()


def state_dict_for_export(model: Sam) -> dict[str, torch.Tensor]:
    """Official names, float32, contiguous; the PE matrix (a buffer) included."""
    return {k: v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}
