#!/usr/bin/python3
"""The PyTorch side of `pn bench`: the same five training workloads, timed the same way.

Usage: /usr/bin/python3 bench/pytorch_ref.py <workload> <threads> <batch> <steps> <warm_up> [<min_seconds>]
(at least `steps` timed steps and `min_seconds` of them, after `warm_up` steps and `min_seconds` of them)
Prints one JSON line: {"ms": median ms per SGD step, "times": [...], "peakRssMB": ..., "torch": version}.
Needs Debian's python3-torch with libopenblas0-pthread (without it PyTorch uses the reference BLAS).
"""
import json
import resource
import statistics
import sys
import time

import torch
from torch import nn


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4096, 10),
    )


def alexnet():
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 10),
    )


class ZeroPadShortcut(nn.Module):
    """He et al. option A: every other pixel, new channels zero."""

    def __init__(self, extra):
        super().__init__()
        self.extra = extra

    def forward(self, x):
        x = x[:, :, ::2, ::2]
        before = self.extra // 2
        return nn.functional.pad(x, (0, 0, 0, 0, before, self.extra - before))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5)
        self.shortcut = ZeroPadShortcut(cout - cin) if stride != 1 else nn.Identity()

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


def resnet20():
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for stage, cout in enumerate([16, 32, 64]):
        for block in range(3):
            layers.append(BasicBlock(cin, cout, 2 if stage > 0 and block == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


WORKLOADS = {
    "mlp": (lambda: nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)), (1,), 0),
    "lenet5": (lenet5, (1, 28, 28), 10),
    "cnn": (small_cnn, (3, 32, 32), 10),
    "resnet20": (resnet20, (3, 32, 32), 10),
    "alexnet": (alexnet, (3, 32, 32), 10),
}


def main():
    name, threads, batch, steps, warm_up = sys.argv[1], *map(int, sys.argv[2:6])
    min_seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    build, shape, classes = WORKLOADS[name]
    model = build()
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, *shape)
    if classes:
        y = torch.arange(batch) % classes
        loss_of = nn.CrossEntropyLoss()
    else:
        y = torch.randn(batch, 1)
        loss_of = nn.MSELoss()

    def step():
        optimizer.zero_grad()
        loss = loss_of(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()

    warm_start = time.perf_counter()
    done = 0
    while done < warm_up or time.perf_counter() - warm_start < min_seconds:
        step()
        done += 1
    times = []
    timed_start = time.perf_counter()
    while len(times) < steps or time.perf_counter() - timed_start < min_seconds:
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ms": statistics.median(times), "times": times, "peakRssMB": peak, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
