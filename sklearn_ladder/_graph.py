"""Training glue for CUDA: each training update replayed as one CUDA graph.

An eager update of the paper's MLP launches about 700 small kernels; on an H100 the GPU
then waits for the host most of the time (measured: busy 9 % of an update's 15 ms). The
shapes of an update never change within a fit (``B`` labeled and ``B`` unlabeled rows),
so its whole work (noise, forward, backward and Adam's step) is captured once as a CUDA
graph and replayed: one launch per update. ``compiled`` also runs the forward pass and
the cost through ``torch.compile``, whose generated kernels fuse the element-wise work
of the batch norms and the denoising functions.

The first updates of a fit run eagerly on a side stream (the warm-up that capture needs;
they are real updates), then the next one is captured and every later update replays it.
The noise comes from the net's own generator, registered with the graph: the updates draw
the same numbers as an eager fit, which the graphed update then matches bit for bit
(``compiled``: to rounding). :class:`CapturedStep` is that recipe for any update: a fit's
(:class:`GraphedUpdate`) and a batch of models' (:mod:`._batched`).
"""

import functools
import threading
import types

import torch

__all__ = ["GPU_UPDATES", "CapturedStep", "GraphedUpdate", "compiled_for_structure",
           "resolve_gpu_update"]

GPU_UPDATES = ("auto", "eager", "graph", "compiled")

# Every graph registers with the device's default generator, in a set that torch does
# not lock, and a capture must not overlap another thread's: the fits and batches that
# fit_batched trains in threads capture, replay and release their graphs one at a time.
# A replay only enqueues the graph, so the GPU still runs them side by side.
GRAPH_LOCK = threading.Lock()

# Eager updates before the capture: what torch's capture recipe asks for (workspaces
# and autograd's stream bookkeeping are set up outside the graph).
WARMUP_UPDATES = 3

# torch.compile costs about 20 s per fit structure (measured on an H100); it pays
# from about 15,000 updates (1.4 ms saved per update).
COMPILE_MIN_UPDATES = 20_000


def resolve_gpu_update(gpu_update: str, device: str, n_updates: int) -> str:
    """The update a fit runs: always ``"eager"`` off CUDA; ``"auto"`` is ``"compiled"``
    for fits of at least ``COMPILE_MIN_UPDATES`` updates where torch can compile for the
    GPU (Triton installed), else ``"graph"`` (``"eager"`` on torch < 2.5). An explicit
    ``"graph"`` or ``"compiled"`` that this torch cannot run is refused with the reason.
    ``gpu_update`` is one of ``GPU_UPDATES`` (the estimators' parameter validation checks
    it)."""
    if torch.device(device).type != "cuda" or gpu_update == "eager":
        return "eager"
    from torch.utils._triton import has_triton

    # Registering the noise generator with a graph arrived in torch 2.5.
    can_graph = hasattr(torch.cuda.CUDAGraph, "register_generator_state")
    if gpu_update == "auto":
        if not can_graph:
            return "eager"
        return "compiled" if n_updates >= COMPILE_MIN_UPDATES and has_triton() else "graph"
    if not can_graph:
        raise ValueError(
            f"gpu_update={gpu_update!r} needs torch >= 2.5 (CUDA graphs that replay a "
            f"generator's noise); this is torch {torch.__version__}. Use "
            f"gpu_update='auto' or 'eager'.")
    if gpu_update == "compiled" and not has_triton():
        raise ValueError(
            "gpu_update='compiled' needs Triton, which torch.compile uses for CUDA; "
            "install triton, or use gpu_update='graph' (or 'auto').")
    return gpu_update


def _training_terms(module, criterion, x, y, weight, noise):
    """The cost terms and the labeled rows' top outputs of one corrupted batch."""
    output = module(x, noise)
    return criterion.terms(output, y, weight), output.logits


@functools.cache
def compiled_for_structure(fn, structure):
    """``fn`` through ``torch.compile`` for the nets of one ``structure`` (a hashable
    key): they share its compiled code, since parameters, λ and the noise are inputs,
    not constants baked into it. Made on first use (compiling imports a lot).

    Each structure compiles a copy of ``fn`` with a code object of its own: dynamo keeps
    the variants it compiles per code object, at most ``recompile_limit`` (8) of them,
    and runs the code uncompiled for every later guard failure, so that one shared
    function would silently lose the compiled update from the ninth structure of a
    process on (a grid over layers or modes, several data sets, a test session).
    """
    code = fn.__code__.replace()  # a new code object, whatever dynamo attached to fn's
    own = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__,
                             fn.__closure__)
    return torch.compile(own, dynamic=False)


class CapturedStep:
    """A training update that CUDA can replay: ``step(*inputs)`` runs eagerly for the
    first ``WARMUP_UPDATES`` calls (on a side stream, as capture needs), is then captured
    as one CUDA graph, and every later call replays it.

    Parameters
    ----------
    step : callable
        ``step(*inputs) -> outputs`` (a tuple of tensors): the whole update, zeroing its
        gradients first, so that every replay writes them afresh. It must not read
        tensors back to the host.
    generators : list of torch.Generator
        The CUDA generators ``step`` draws from, registered with the graph, so that each
        replay draws what an eager update would.
    graphed : bool
        Whether to capture and replay; done only where the inputs live on a CUDA
        device. Otherwise (eager, or off CUDA) every call runs eagerly.

    Each call copies its inputs into buffers kept at fixed addresses (the first call's
    clones) and returns the outputs of ``step``: after a replay the same tensors, whose
    contents the next call overwrites (clone what you keep). Off CUDA the same buffers
    are used, so the CPU tests check what a replay reads.
    """

    def __init__(self, step, generators: list, graphed: bool):
        self.step, self.generators, self.graphed = step, generators, graphed
        self.graph = self.inputs = self.outputs = self.capture = None
        self.n_eager = 0

    def __call__(self, *inputs) -> tuple:
        if self.inputs is None:
            self.inputs = [None if v is None else v.clone() for v in inputs]
            self.capture = self.graphed and self.inputs[0].is_cuda
        else:
            for static, value in zip(self.inputs, inputs):
                if static is not None:
                    static.copy_(value)
        if not self.capture:
            self.outputs = self.step(*self.inputs)
            return self.outputs
        with GRAPH_LOCK:
            if self.graph is None and self.n_eager < WARMUP_UPDATES:
                self._eager()
            else:
                if self.graph is None:
                    self._capture()
                self.graph.replay()
        return self.outputs

    def _eager(self) -> None:
        side = torch.cuda.Stream(self.inputs[0].device)
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.outputs = self.step(*self.inputs)
        torch.cuda.current_stream().wait_stream(side)
        self.n_eager += 1

    def _capture(self) -> None:
        graph = torch.cuda.CUDAGraph()
        for generator in self.generators:
            graph.register_generator_state(generator)
        # thread_local: fits in other threads may launch work while this one captures.
        try:
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                self.outputs = self.step(*self.inputs)
        except BaseException:
            graph.reset()  # now, under the lock, not whenever the traceback is collected
            raise
        self.graph = graph

    def release(self) -> None:
        """Free the graph and its memory now (under the lock: see ``GRAPH_LOCK``)."""
        if self.graph is not None:
            with GRAPH_LOCK:
                self.graph.reset()
                self.graph = None
        self.inputs = self.outputs = None


class GraphedUpdate:
    """A net's training update, replayed as a CUDA graph after ``WARMUP_UPDATES`` eager
    ones (a :class:`CapturedStep`); called in place of skorch's ``train_step`` with a
    training batch.

    Parameters
    ----------
    net : LadderNet
        The initialised net, in training mode, its optimiser made capturable with the
        learning rate a device tensor (``LadderNet._capturable_optimizer``).
    compiled : bool
        Whether the forward pass and the cost run through ``torch.compile``.

    Off CUDA nothing is captured: every update runs eagerly through the same buffers
    (what the tests check on the CPU).
    """

    def __init__(self, net, compiled: bool):
        self.net = net
        self.terms_fn = (compiled_for_structure(_training_terms, net.structure_key())
                         if compiled else _training_terms)
        self.update = None

    def __call__(self, batch) -> dict:
        x, targets = batch
        if self.update is None:  # the noise generator exists once training has begun
            generator = self.net.module_.noise_generator
            self.update = CapturedStep(
                self._body, [] if generator is None else [generator], graphed=True)
        loss, terms, logits = self.update(x, targets.y, targets.weight)
        return {"loss": loss.clone(), "y_pred": logits.clone(), "cost_terms": terms.clone()}

    def _body(self, x, y, weight) -> tuple:
        net = self.net
        module = net.module_
        net.optimizer_.zero_grad(set_to_none=True)
        n_groups, n_noisy = module.training_layout()
        # Drawn outside the compiled function, so that σ is no constant of its code.
        noise = module.draw_noise(len(x) // 2, n_groups, n_noisy, module.noise_generator,
                                  x.dtype, x.device)
        with net.training_precision():  # cuBLAS and cuDNN choose their kernels here
            terms, logits = self.terms_fn(module, net.criterion_, x, y, weight, noise)
            loss = terms.sum()
            loss.backward()
        net.optimizer_.step()
        return loss.detach(), terms.detach(), logits.detach()

    def release(self) -> None:
        """Free the graph and its buffers now."""
        if self.update is not None:
            self.update.release()
        self.update = None
