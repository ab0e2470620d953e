"""Train a small face recogniser on a store's identities and export it to ONNX, for
``latentplay embed STORE --with onnx:OUT -o align=none -o pixels=unit`` and ``audit verify``.

A CNN (four convolution blocks, 128-d embedding) trained with ArcFace's additive angular margin
(s = 30, m = 0.3) on the store's ``identity`` attribute, mirrored at random; SGD with a one-cycle
learning rate. Input: the store's images as (N, 3, S, S) in [0, 1] (square, S a multiple of 16).

    python docs/examples/train_recogniser.py ptrain_bal rec_bal.onnx --epochs 10
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from latentplay import store as st


def block(cin: int, cout: int) -> torch.nn.Module:
    """3x3 convolution, batch norm, PReLU, 2x2 max pooling."""
    return torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                               torch.nn.BatchNorm2d(cout), torch.nn.PReLU(cout),
                               torch.nn.MaxPool2d(2))


def recogniser(size: int, dim: int = 128) -> torch.nn.Module:
    """(N, 3, size, size) -> (N, dim) embeddings."""
    side = size // 16
    return torch.nn.Sequential(block(3, 32), block(32, 64), block(64, 128), block(128, 128),
                               torch.nn.Flatten(), torch.nn.Dropout(0.2),
                               torch.nn.Linear(128 * side * side, dim), torch.nn.BatchNorm1d(dim))


def arcface_logits(emb: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor,
                   s: float = 30.0, m: float = 0.3) -> torch.Tensor:
    """s cos(theta + m) for the true class, s cos(theta) for the others."""
    cos = F.normalize(emb) @ F.normalize(weight).T
    theta = torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6))
    true = F.one_hot(labels, weight.shape[0]).bool()
    return s * torch.where(true, torch.cos(theta + m), cos)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("out")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    store = st.load(args.store)
    x = torch.from_numpy(st.load_images(store)).permute(0, 3, 1, 2).float() / 255
    y = torch.from_numpy(store.labels("identity").astype(np.int64))
    net = recogniser(x.shape[-1])
    weight = torch.nn.Parameter(torch.randn(int(y.max()) + 1, 128) * 0.01)
    opt = torch.optim.SGD([*net.parameters(), weight], lr=0.1, momentum=0.9, weight_decay=5e-4)
    steps = args.epochs * -(-len(x) // args.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=steps)
    for epoch in range(args.epochs):
        for batch in torch.randperm(len(x)).split(args.batch_size):
            if len(batch) < 2:  # batch norm needs two
                continue
            xb = x[batch]
            xb = torch.where(torch.rand(len(xb), 1, 1, 1) < 0.5, xb.flip(3), xb)
            loss = F.cross_entropy(arcface_logits(net(xb), weight, y[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {epoch}: loss {loss.item():.3f}", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net.eval(), (x[:1],), args.out, dynamo=False, input_names=["image"],
                          dynamic_axes={"image": {0: "n"}})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
