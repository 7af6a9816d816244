#!/usr/bin/env python3
"""Certified training with interval bound propagation (IBP) in plain
PyTorch, on the digits vendored in data/mnist-10k, exported as ONNX for
`certnn import`.

This is what a PyTorch user brings: a network trained by their own code,
not by certnn. Gowal et al.'s IBP (2018): the worst-case logits over the
L-infinity ball of radius eps, bounded by propagating the box's centre and
radius through every layer, and the loss

    kappa * CE(f(x), y) + (1 - kappa) * CE(worst-case margins, y)

with eps ramped up from 0 and kappa from 1 to 0.5. The network normalises
its input and pads its convolutions, so the import has to get both right.

    python3 examples/pytorch-ibp/train_ibp.py --out runs/pytorch-ibp
    certnn import --onnx runs/pytorch-ibp/cnn.onnx --eps 0.1 --out models/pytorch-cnn-eps0.1.cert

Prints the IBP-verified accuracy PyTorch computes on the 2,000 test digits
(margins bounded with the last layer's rows subtracted first, as certnn
does), to set beside certnn's figures.
"""

import argparse
import gzip
import os
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def digits(split):
    d = os.path.join(ROOT, "data", "mnist-10k")
    x = idx(os.path.join(d, f"{split}-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    y = idx(os.path.join(d, f"{split}-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


class Normalise(nn.Module):
    def forward(self, x):
        return (x - 0.1307) / 0.3081


def network():
    return nn.Sequential(
        Normalise(),
        nn.Conv2d(1, 16, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 100),
        nn.ReLU(),
        nn.Linear(100, 10),
    )


def interval(net, x, eps, y):
    """Lower bounds of f_y - f_j over the box [x - eps, x + eps] within [0, 1]."""
    lo, hi = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    c, r = (hi + lo) / 2, (hi - lo) / 2
    layers = list(net)
    for layer in layers[:-1]:
        if isinstance(layer, Normalise):
            c, r = layer(c), r / 0.3081
        elif isinstance(layer, nn.Conv2d):
            c = layer(c)
            r = F.conv2d(r, layer.weight.abs(), None, layer.stride, layer.padding)
        elif isinstance(layer, nn.Linear):
            c, r = layer(c), F.linear(r, layer.weight.abs())
        elif isinstance(layer, nn.ReLU):
            lo, hi = F.relu(c - r), F.relu(c + r)
            c, r = (hi + lo) / 2, (hi - lo) / 2
        elif isinstance(layer, nn.Flatten):
            c, r = layer(c), layer(r)
    head = layers[-1]
    # Rows W_y - W_j: the margins directly (tighter than logit bounds).
    w = head.weight[y].unsqueeze(1) - head.weight.unsqueeze(0)  # [batch, classes, features]
    b = head.bias[y].unsqueeze(1) - head.bias.unsqueeze(0)
    return torch.einsum("bkf,bf->bk", w, c) - torch.einsum("bkf,bf->bk", w.abs(), r) + b


def verified(net, x, y, eps):
    net.eval()
    with torch.no_grad():
        margins = interval(net, x, eps, y)
        margins[torch.arange(len(y)), y] = 1.0
        return (margins > 0).all(1).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eps-train", type=float, default=0.15)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/pytorch-ibp")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    x, y = digits("train")
    xt, yt = digits("test")
    net = network()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    steps = args.epochs * ((len(x) + args.batch_size - 1) // args.batch_size)
    warmup, ramp = steps // 10, steps // 2
    step = 0
    started = time.time()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), args.batch_size):
            batch = order[i:i + args.batch_size]
            xb, yb = x[batch], y[batch]
            t = min(max(step - warmup, 0) / ramp, 1.0)
            eps, kappa = t * args.eps_train, 1.0 - 0.5 * t
            loss = kappa * F.cross_entropy(net(xb), yb)
            if eps > 0:
                margins = interval(net, xb, eps, yb)
                # CE over the worst-case logits -margins (0 at the label).
                loss = loss + (1 - kappa) * F.cross_entropy(-margins, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        if epoch == int(args.epochs * 0.8):
            for g in opt.param_groups:
                g["lr"] *= 0.1
        net.eval()
        with torch.no_grad():
            clean = (net(xt).argmax(1) == yt).float().mean().item()
        print(f"epoch {epoch + 1}: eps {eps:.3f} clean {100 * clean:.2f}% ({time.time() - started:.0f} s)")
    clean = (net(xt).argmax(1) == yt).float().mean().item()
    ver = verified(net, xt, yt, args.eps)
    print(f"PyTorch, {len(xt)} test digits: clean {100 * clean:.2f}%  IBP-verified at eps {args.eps}: {100 * ver:.2f}%")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "cnn.onnx")
    torch.onnx.export(net, (x[:2],), path, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
