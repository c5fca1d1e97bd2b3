"""PyTorch CPU reference for `memhyper bench engine`: NetworkCIFAR of the DARTS reference
(written here from its published structure) timed for inference and training.

Usage: python3 torch_ref.py '<json>' where json = {"normal": [[op, input], ...],
"reduce": [...], "channels": C, "layers": L, "batch": B, "mode": "inference"|"training",
"seconds": S, "threads": T, "auxWeight": a, "dropPath": p}. A training step is the DARTS
reference's (train.py): drop-path on every non-identity edge and, when auxWeight > 0, the
auxiliary head after cell 2·layers//3 with its loss weighted by auxWeight. Prints one JSON
object.
"""
import json
import sys
import time

import torch
import torch.nn as nn


def relu_conv_bn(cin, cout, k, stride, pad, dil=1, groups=1):
    return [nn.ReLU(inplace=False), nn.Conv2d(cin, cout, k, stride, pad, dilation=dil, groups=groups, bias=False)]


class SepConv(nn.Module):
    def __init__(self, c, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c, c, k, stride, pad, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c),
            nn.ReLU(), nn.Conv2d(c, c, k, 1, pad, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    def __init__(self, c, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, k, stride, pad, dilation=2, groups=c, bias=False),
                                nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


class FactorizedReduce(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(cin, cout // 2, 1, 2, bias=False)
        self.conv_2 = nn.Conv2d(cin, cout // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def drop_path(x, p):
    """DARTS utils.drop_path: each sample zeroed with probability p, else scaled by 1/(1−p)."""
    keep = 1.0 - p
    mask = torch.empty(x.size(0), 1, 1, 1).bernoulli_(keep)
    return x / keep * mask


class AuxiliaryHeadCIFAR(nn.Module):
    """DARTS model.py: on the 8×8 output of cell 2·layers//3."""

    def __init__(self, c, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(), nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False), nn.Conv2d(c, 128, 1, bias=False),
            nn.BatchNorm2d(128), nn.ReLU(), nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU())
        self.classifier = nn.Linear(768, classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.op(x)


def make_op(name, c, stride):
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride, 1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    if name.startswith("sep_conv"):
        k = int(name[-1])
        return SepConv(c, k, stride, k // 2)
    if name.startswith("dil_conv"):
        k = int(name[-1])
        return DilConv(c, k, stride, k - 1 if k == 3 else 4)
    raise ValueError(name)


class Cell(nn.Module):
    def __init__(self, ops, cpp, cp, c, reduction, reduction_prev):
        super().__init__()
        self.preprocess0 = FactorizedReduce(cpp, c) if reduction_prev else ReLUConvBN(cpp, c)
        self.preprocess1 = ReLUConvBN(cp, c)
        self._ops = nn.ModuleList([make_op(n, c, 2 if reduction and i < 2 else 1) for n, i in ops])
        self._indices = [i for _, i in ops]

    def forward(self, s0, s1, drop_prob):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(len(self._ops) // 2):
            h = []
            for j in (2 * i, 2 * i + 1):
                op = self._ops[j]
                y = op(states[self._indices[j]])
                if self.training and drop_prob > 0 and not isinstance(op, nn.Identity):
                    y = drop_path(y, drop_prob)
                h.append(y)
            states.append(h[0] + h[1])
        return torch.cat(states[2:], dim=1)


class Network(nn.Module):
    def __init__(self, normal, reduce, C, layers, auxiliary):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 3 * C, 3, padding=1, bias=False), nn.BatchNorm2d(3 * C))
        cpp, cp, cc = 3 * C, 3 * C, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                cc *= 2
            self.cells.append(Cell(reduce if reduction else normal, cpp, cp, cc, reduction, reduction_prev))
            reduction_prev = reduction
            cpp, cp = cp, 4 * cc
            if i == 2 * layers // 3:
                c_aux = cp
        self.aux_at = 2 * layers // 3
        self.auxiliary_head = AuxiliaryHeadCIFAR(c_aux) if auxiliary else None
        self.classifier = nn.Linear(cp, 10)
        self.drop_prob = 0.0

    def forward(self, x):
        s0 = s1 = self.stem(x)
        aux = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_prob)
            if i == self.aux_at and self.auxiliary_head is not None and self.training:
                aux = self.auxiliary_head(s1)
        return self.classifier(s1.mean(dim=(2, 3))), aux


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg.get("threads", 2))
    torch.manual_seed(0)
    aux_weight = cfg.get("auxWeight", 0.0)
    net = Network(cfg["normal"], cfg["reduce"], cfg["channels"], cfg["layers"], aux_weight > 0)
    net.drop_prob = cfg.get("dropPath", 0.0)
    b = cfg["batch"]
    x = torch.randn(b, 3, 32, 32)
    y = torch.randint(0, 10, (b,))
    if cfg["mode"] == "inference":
        net.eval()

        def step():
            with torch.no_grad():
                net(x)
    else:
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            logits, aux = net(x)
            loss = loss_fn(logits, y)
            if aux is not None:
                loss = loss + aux_weight * loss_fn(aux, y)
            loss.backward()
            opt.step()

    step()  # warm-up
    n, t0 = 0, time.perf_counter()
    while n == 0 or time.perf_counter() - t0 < cfg.get("seconds", 5):
        step()
        n += 1
    dt = time.perf_counter() - t0
    print(json.dumps({"imgPerSec": n * b / dt, "steps": n, "seconds": dt, "torch": torch.__version__, "threads": torch.get_num_threads()}))


main()
