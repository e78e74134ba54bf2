"""CUDA-graph probe of one full-ladder update (paper MLP, B = 100 + 100), outside skorch.

On a GPU: the update (noise, forward, backward, fused Adam) eager against replayed as a
CUDA graph, with and without ``torch.compile`` of the forward pass and cost: the largest
relative difference of the cost terms per update over the first 10 updates (3 eager,
then replays) against an eager run from the same seeds, ms per update, the host time of
a replay; then K independent models' graphs replayed on K streams (ms per round of K
updates). ``sklearn_ladder._graph`` was built from it. Writes ``graph_probe.json``::

    python benchmarks/graph_probe.py benchmarks/results/gpu-probe
"""

import json
import os
import sys
import time
import traceback

import torch

from sklearn_ladder._ladder import Ladder, LadderCost

HIDDEN = (1000, 500, 250, 250, 250)
COSTS = [1000, 10, 0.1, 0.1, 0.1, 0.1, 0.1]
DEVICE, N, B = "cuda", 60000, 100


class Model:
    """One ladder, its cost and fused Adam, with static index buffers for a graph."""

    def __init__(self, data, capturable, compiled=False, seed=0):
        self.X, self.Y = data
        self.m = Ladder(784, [*HIDDEN, 10], COSTS, [0.3] * 7, init_seed=seed).to(DEVICE)
        self.gen = torch.Generator(device=DEVICE).manual_seed(123 + seed)
        self.m.train().noise_generator = self.gen
        self.c = LadderCost(COSTS).to(DEVICE)
        lr = torch.tensor(0.002, device=DEVICE) if capturable else 0.002
        self.o = torch.optim.Adam(self.m.parameters(), lr=lr, fused=True,
                                  capturable=capturable)
        self.idx = torch.zeros(2 * B, dtype=torch.long, device=DEVICE)

        def terms(xb, yb):
            return self.c.terms(self.m(xb), yb)

        self.f = torch.compile(terms) if compiled else terms
        self.g = self.terms = None

    def body(self):
        terms = self.f(self.X[self.idx], self.Y[self.idx[:B]])
        terms.sum().backward()
        self.o.step()
        return terms

    def eager(self, rows):
        self.idx.copy_(rows)
        self.o.zero_grad(set_to_none=True)
        return self.body().detach().clone()

    def capture(self, stream=None):
        self.o.zero_grad(set_to_none=True)
        self.g = torch.cuda.CUDAGraph()
        self.g.register_generator_state(self.gen)
        with torch.cuda.graph(self.g, stream=stream):
            self.terms = self.body()

    def replay(self, rows):
        self.idx.copy_(rows)
        self.g.replay()
        return self.terms.clone()


def warm(model, index, n=3):
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        out = [model.eager(index[i]) for i in range(n)]
    torch.cuda.current_stream().wait_stream(side)
    return out


def variant(res, name, compiled, data, index):
    try:
        ref = Model(data, False)
        expected = torch.stack([ref.eager(index[i]) for i in range(10)])
        start = time.perf_counter()
        model = Model(data, True, compiled)
        first = warm(model, index)
        model.capture()
        got = torch.stack(first + [model.replay(index[i]) for i in range(3, 10)])
        torch.cuda.synchronize()
        res[name + "_setup_s"] = time.perf_counter() - start
        rel = (got - expected).abs() / expected.abs().clamp_min(1e-6)
        res[name + "_reldiff_per_update"] = rel.max(1).values.tolist()
        for _ in range(50):
            model.replay(index[0])
        torch.cuda.synchronize()
        start, n = time.perf_counter(), 3000
        for i in range(n):
            model.replay(index[i % len(index)])
        torch.cuda.synchronize()
        res[name + "_ms"] = (time.perf_counter() - start) / n * 1000
        start = time.perf_counter()
        for i in range(200):  # the host's share: no synchronisation inside
            model.replay(index[i])
        res[name + "_host_us_per_replay"] = (time.perf_counter() - start) / 200 * 1e6
        torch.cuda.synchronize()
    except Exception:
        res[name + "_error"] = traceback.format_exc()[-3000:]


def streams(res, data, index):
    for k in (1, 4, 16):
        models = [Model(data, True, False, seed=s) for s in range(k)]
        lanes = [torch.cuda.Stream() for _ in range(k)]
        for model, lane in zip(models, lanes):
            lane.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(lane):
                for i in range(3):
                    model.eager(index[i])
                model.capture(stream=lane)
        torch.cuda.synchronize()
        n = 1000 if k < 16 else 300
        start = time.perf_counter()
        for i in range(n):
            for model, lane in zip(models, lanes):
                with torch.cuda.stream(lane):
                    model.idx.copy_(index[i % len(index)])
                    model.g.replay()
        torch.cuda.synchronize()
        res[f"streams_K{k}_ms_per_round"] = (time.perf_counter() - start) / n * 1000


def main(output="benchmarks/results/gpu-probe"):
    torch.manual_seed(0)
    data = (torch.rand(N, 784, device=DEVICE), torch.randint(0, 10, (N,), device=DEVICE))
    index = torch.randint(0, N, (400, 2 * B), device=DEVICE)
    res = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__}
    variant(res, "graph", False, data, index)
    variant(res, "graph_compiled", True, data, index)
    streams(res, data, index)
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, "graph_probe.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
