"""
An independent PyTorch port of the project's generator (src/core/generator/) and simple CNN
(src/core/classifier/simple-cnn.ts), read from the project's weights format
(src/core/weights/manifest.ts: a JSON manifest naming little-endian float32 tensors in one binary,
checked against the manifest's byte length and sha256).

Written as a PyTorch user would (NCHW, F.conv2d, autograd), not as a transcription of the tfjs
code: the bench compares it against the project to check that both compute the same function
before timing them. Weight-only terms (scaled weights, demodulation sums, layout permutes) are
prepared once at load, as any inference port would.
"""
import hashlib
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


def read_weights(folder):
    """(manifest, {name: float32 tensor in the stored layout}) after the format's checks."""
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    if manifest.get("format") != "faultlines-weights/1":
        raise ValueError(f"{folder}: unknown weights format {manifest.get('format')!r}")
    with open(os.path.join(folder, manifest["weightsFile"]), "rb") as f:
        data = f.read()
    if len(data) != manifest["byteLength"]:
        raise ValueError(f"{folder}: {len(data)} bytes, manifest says {manifest['byteLength']}")
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        raise ValueError(f"{folder}: sha256 differs from the manifest's")
    tensors = {}
    for t in manifest["tensors"]:
        a = np.frombuffer(data, dtype="<f4", count=t["byteLength"] // 4, offset=t["offset"])
        tensors[t["name"]] = torch.from_numpy(a.copy()).reshape(t["shape"])
    return manifest, tensors


def lrelu(x):
    return F.leaky_relu(x, 0.2) * SQRT2


def normalize_2nd_moment(x, eps=1e-8):
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


def upsample2(x):
    return F.interpolate(x, scale_factor=2, mode="nearest")


class Generator:
    """Conditional StyleGAN2 (skip architecture, modulation on the activations)."""

    def __init__(self, folder):
        manifest, t = read_weights(folder)
        if manifest["kind"] != "generator":
            raise ValueError(f"{folder} holds a {manifest['kind']}, not a generator")
        a = manifest["architecture"]
        self.arch = a
        self.num_classes = a["numClasses"]
        # Mapping: equalized FC layers (weight * lrMul / sqrt(fanIn), bias * lrMul).
        self.embed = self._fc(t, "mapping/embed", 1.0)
        self.fcs = [self._fc(t, f"mapping/fc{i}", a["mappingLrMul"]) for i in range(a["mappingLayers"])]
        # Style layout: per block conv0 (not at 4x4), conv1, torgb; a style entry per input channel.
        self.layers = []
        for i, res in enumerate(a["resolutions"]):
            if i > 0:
                self.layers.append((f"b{res}.conv0", "conv", res, True))
            self.layers.append((f"b{res}.conv1", "conv", res, False))
            self.layers.append((f"b{res}.torgb", "torgb", res, False))
        self.const = t["synthesis/b4.const"].permute(0, 3, 1, 2).contiguous()  # [1, C, 4, 4]
        self.affines, self.mods, offset = [], [], 0
        for name, kind, res, up in self.layers:
            p = f"synthesis/{name}"
            self.affines.append(self._fc(t, f"{p}/affine", 1.0))
            w = t[f"{p}/weight"]  # [k, k, Cin, Cout]
            cin = w.shape[2]
            w = (w * (1.0 / math.sqrt(cin * w.shape[0] * w.shape[1]))).permute(3, 2, 0, 1).contiguous()
            m = {"kind": kind, "res": res, "up": up, "slice": slice(offset, offset + cin), "w": w,
                 "b": t[f"{p}/bias"].reshape(1, -1, 1, 1)}
            if kind == "conv":
                m["wsq"] = w.square().sum(dim=(2, 3)).t().contiguous()  # [Cin, Cout]
                m["noise_strength"] = t[f"{p}/noise_strength"].reshape(())
                m["noise_const"] = t[f"{p}/noise_const"].permute(0, 3, 1, 2).contiguous()
            self.mods.append(m)
            offset += cin
        self.style_size = offset
        self.conv_resolutions = [m["res"] for m in self.mods if m["kind"] == "conv"]

    @staticmethod
    def _fc(t, name, lr_mul):
        w = t[f"{name}/weight"]
        return (w * (lr_mul / math.sqrt(w.shape[0])), t[f"{name}/bias"] * lr_mul)

    def mapping(self, z, labels):
        c = F.one_hot(labels.long(), self.num_classes).float()
        y = normalize_2nd_moment(c @ self.embed[0] + self.embed[1])
        x = torch.cat([normalize_2nd_moment(z), y], dim=1)
        for w, b in self.fcs:
            x = lrelu(x @ w + b)
        return x

    def styles(self, w):
        return torch.cat([w @ aw + ab for aw, ab in self.affines], dim=1)

    def synthesis(self, s, noise=None, kinks=None):
        """
        s [N, S], noise: None (the stored constant noise) or one [N, 1, R, R] per conv layer -> [N, 1, R, R]
        in [0, 1]. `kinks`, a list, receives per sample the distance of every leaky-ReLU input and
        pre-clip pixel from its kink (the points where float32 rounding can flip a derivative).
        """
        n = s.shape[0]
        x = self.const.expand(n, -1, -1, -1)
        img, k = None, 0
        for m in self.mods:
            st = s[:, m["slice"]]
            if m["kind"] == "conv":
                if m["up"]:
                    x = upsample2(x)
                y = F.conv2d(x * st[:, :, None, None], m["w"], padding=1)
                d = torch.rsqrt(st.square() @ m["wsq"] + 1e-8)
                y = y * d[:, :, None, None]
                nz = m["noise_const"] if noise is None else noise[k]
                k += 1
                pre = y + nz * m["noise_strength"] + m["b"]
                if kinks is not None:
                    kinks.append(pre.abs().flatten(1).min(dim=1).values)
                x = lrelu(pre)
            else:
                y = F.conv2d(x * st[:, :, None, None], m["w"]) + m["b"]
                img = y if img is None else upsample2(img) + y
        unit = (img + 1) * 0.5
        if kinks is not None:
            kinks.append(torch.minimum(unit.abs(), (unit - 1).abs()).flatten(1).min(dim=1).values)
        return unit.clamp(0, 1)


class SimpleCnn:
    """Three 3x3 conv + ReLU + 2x2 average-pool stages, a hidden dense layer, the logits."""

    def __init__(self, folder):
        manifest, t = read_weights(folder)
        a = manifest["architecture"]
        if manifest["kind"] != "classifier" or a.get("type") != "simple-cnn":
            raise ValueError(f"{folder} is not a simple-cnn classifier")
        self.convs = [(t[f"conv{i}/kernel"].permute(3, 2, 0, 1).contiguous(), t[f"conv{i}/bias"]) for i in (1, 2, 3)]
        c, side = a["channels"][-1], a["imageSize"] // 8
        # The stored dense kernel reads the features in NHWC order; this port flattens NCHW.
        d = t["dense1/kernel"].reshape(side, side, c, -1).permute(2, 0, 1, 3).reshape(c * side * side, -1)
        self.dense = (d.contiguous(), t["dense1/bias"])
        self.out = (t["logits/kernel"], t["logits/bias"])

    def logits(self, images, kinks=None):
        """images [N, 1, R, R] -> logits [N, K]; `kinks` as in Generator.synthesis (ReLU inputs)."""
        x = images
        for w, b in self.convs:
            pre = F.conv2d(x, w, b, padding=1)
            if kinks is not None:
                kinks.append(pre.abs().flatten(1).min(dim=1).values)
            x = F.avg_pool2d(F.relu(pre), 2)
        pre = x.flatten(1) @ self.dense[0] + self.dense[1]
        if kinks is not None:
            kinks.append(pre.abs().min(dim=1).values)
        return F.relu(pre) @ self.out[0] + self.out[1]


def as_float64(model):
    """The model with every weight term in float64 (a reference for float32 implementations)."""
    def cast(v):
        if isinstance(v, torch.Tensor):
            return v.double()
        if isinstance(v, (list, tuple)):
            return type(v)(cast(x) for x in v)
        if isinstance(v, dict):
            return {k: cast(x) for k, x in v.items()}
        return v
    for k, v in list(vars(model).items()):
        setattr(model, k, cast(v))
    return model


def kink_margins(gen, cnn, s, noise):
    """Per sample, the smallest distance of any activation input (or pre-clip pixel) from its kink."""
    kinks = []
    with torch.no_grad():
        cnn.logits(gen.synthesis(s, noise, kinks), kinks)
    return torch.stack(kinks, dim=1).min(dim=1).values


def p_true_gradient(gen, cnn, s, labels, noise):
    """(probabilities [N, K], d p_true / d s [N, S]): the sweep's gradient."""
    s = s.detach().requires_grad_(True)
    probs = torch.softmax(cnn.logits(gen.synthesis(s, noise)), dim=1)
    p_true = probs.gather(1, labels.long()[:, None]).sum()
    (grad,) = torch.autograd.grad(p_true, s)
    return probs.detach(), grad
