"""Rodningen 2022's DCNN and ADCRNN in PyTorch: the reference for the convolutional steps.

The same layers, sizes, losses and optimisers as :mod:`mer_ser.models.conv` (thesis sections
4.4.1 and 4.4.2), in PyTorch's layout (``(B, 3, T, F)``). Two ways of running them:

* ``best=False``: float32, contiguous (NCHW) tensors, the default Adam;
* ``best=True``: what a PyTorch user would do for speed on a GPU: ``channels_last`` memory
  format, ``torch.autocast`` to bfloat16, the fused Adam, and ``cudnn.benchmark`` (each only
  where it applies: on a CPU the autocast is bfloat16 too, the fused Adam is not used).

PyTorch is an optional dependency (``pip install -e .[bench]``); :func:`conv_step_torch`
returns None without it.
"""

from __future__ import annotations

import time

#: The thesis' L1 kernel regularisation and Adam learning rate of each model (sections 4.4.1-2).
SETTINGS = {"dcnn": {"l1": 0.001, "lr": 1e-4}, "adcrnn": {"l1": 0.01, "lr": 1e-5}}


def load_torch():
    """The ``torch`` module, or None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def build(torch, model: str, frames: int, n_mels: int = 40):
    """The PyTorch ``nn.Module`` of ``model`` (``"dcnn"`` or ``"adcrnn"``) for ``frames`` frames."""
    nn = torch.nn
    t, f = (frames - 2) // 4, (n_mels - 2) // 2  # after the valid 3x3 conv and the (4, 2) pool
    batch_norm = model == "adcrnn"

    class Block(nn.Module):
        """Conv 128 (valid) -> max-pool (4, 2) -> two dilated convs 64 with a skip connection."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 128, 3)
            self.pool = nn.MaxPool2d((4, 2))
            self.d1 = nn.Conv2d(128, 64, 3, dilation=2, padding=2)
            self.d2 = nn.Conv2d(64, 64, 3, dilation=2, padding=2)
            norm = nn.BatchNorm2d if batch_norm else (lambda c: nn.Identity())
            self.bn = nn.ModuleList([norm(c) for c in (128, 64, 64)])

        def forward(self, x):
            h = self.pool(torch.relu(self.bn[0](self.conv(x))))
            a = torch.relu(self.bn[1](self.d1(h)))
            return a + torch.relu(self.bn[2](self.d2(a)))  # (B, 64, T', F')

    class DCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.fc1 = nn.Linear(t * f * 64, 128)
            self.fc2, self.out = nn.Linear(128, 64), nn.Linear(64, 4)
            self.drop = nn.Dropout(0.3)

        def forward(self, x):
            h = self.block(x).flatten(1)
            return self.out(torch.relu(self.fc2(self.drop(torch.relu(self.fc1(h))))))

    class ADCRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.proj = nn.Linear(f * 64, 256)
            self.bi = nn.LSTM(256, 256, batch_first=True, bidirectional=True)
            self.dil1 = nn.LSTM(512, 256, batch_first=True)
            self.dil2 = nn.LSTM(256, 256, batch_first=True)
            self.att = nn.Parameter(torch.randn(256) * 0.1)
            self.fc, self.out = nn.Linear(256, 64), nn.Linear(64, 4)
            self.drop = nn.Dropout(0.3)

        def forward(self, x):
            h = self.block(x)  # (B, 64, T', F')
            b, _, steps, _ = h.shape
            h = self.proj(h.permute(0, 2, 3, 1).reshape(b, steps, -1))  # one vector per step
            h = self.dil1(self.bi(h)[0])[0]
            # Dilation 2: the even and the odd steps as two interleaved sequences.
            pad = steps % 2
            if pad:
                h = torch.nn.functional.pad(h, (0, 0, 0, pad))
            half = h.shape[1] // 2
            h = h.reshape(b, half, 2, 256).transpose(1, 2).reshape(2 * b, half, 256)
            h = self.dil2(h)[0].reshape(b, 2, half, 256).transpose(1, 2).reshape(b, 2 * half, 256)
            h = h[:, :steps]
            alpha = torch.softmax(h @ self.att, dim=1)  # attention pooling, eqs. (4.1)-(4.2)
            c = (alpha.unsqueeze(-1) * h).sum(1)
            return self.out(self.drop(torch.relu(self.fc(c))))

    return {"dcnn": DCNN, "adcrnn": ADCRNN}[model]()


def conv_step_torch(
    model: str = "dcnn", *, batch=8, frames=1001, steps=5, best: bool = False, seed=0
) -> float | None:
    """Seconds per training step of ``model`` in PyTorch (cross-entropy + L1, Adam), or None.

    Args:
        model: ``"dcnn"`` or ``"adcrnn"``.
        batch: clips per step.
        frames: time frames of the ``(frames, 40, 3)`` log-mel input.
        steps: timed steps (after warm-up steps).
        best: PyTorch's fast settings (module docstring) instead of plain float32.
        seed: random seed of weights and data.
    """
    torch = load_torch()
    if torch is None:
        return None
    torch.manual_seed(seed)
    cuda = torch.cuda.is_available()
    dev = "cuda" if cuda else "cpu"
    net = build(torch, model, frames).to(dev)
    x = torch.randn(batch, 3, frames, 40, device=dev)
    y = torch.randint(0, 4, (batch,), device=dev)
    if best:
        torch.backends.cudnn.benchmark = True
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    s = SETTINGS[model]
    opt = torch.optim.Adam(net.parameters(), lr=s["lr"], fused=bool(best and cuda))
    kernels = [p for p in net.parameters() if p.dim() > 1]

    def run():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=best):
            logits = net(x)
        loss = torch.nn.functional.cross_entropy(logits.float(), y)
        loss = loss + s["l1"] * sum(p.abs().sum() for p in kernels)
        loss.backward()
        opt.step()

    return timed_torch(torch, run, steps, warmup=2)


def timed_torch(torch, run, steps: int, *, warmup: int) -> float:
    """Seconds per call of ``run``, synchronising the GPU around the timed calls."""

    def sync():
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    for _ in range(warmup):
        run()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        run()
    sync()
    return (time.perf_counter() - t0) / steps
