"""The same operations in every framework, for the benchmarks (class axis last everywhere).

Each entry maps a framework name to ``prepare(x) -> handle`` (done outside any timing: the
conversion to the framework's own array type) and ``run[name](handle, target) -> numpy``.
Frameworks that are not installed are left out.
"""

import os

import numpy as np
import scipy.special as sp

import softmax_lib as sl
from softmax_lib.kernels import numpy_path, on_threads

FUNCTIONS = ("softmax", "log_softmax", "logsumexp", "cross_entropy")


def _softmax_lib():
    return lambda x: x, {
        "softmax": lambda x, t: sl.softmax(x),
        "log_softmax": lambda x, t: sl.log_softmax(x),
        "logsumexp": lambda x, t: sl.logsumexp(x),
        "cross_entropy": lambda x, t: sl.cross_entropy(x, t, reduction="none"),
    }


def _softmax_lib_within(context):
    """softmax_lib with every call made inside ``context()`` (a block of softmax_lib.kernels)."""

    def within(fn):
        def run(x, t):
            with context():
                return fn(x, t)

        return run

    prepare, fns = _softmax_lib()
    return prepare, {name: within(fn) for name, fn in fns.items()}


def _scipy():
    def cross_entropy(x, t):  # SciPy has none: its log_softmax, then the target's entry
        return -np.take_along_axis(sp.log_softmax(x, axis=-1), t[..., None], axis=-1)[..., 0]

    return lambda x: x, {
        "softmax": lambda x, t: sp.softmax(x, axis=-1),
        "log_softmax": lambda x, t: sp.log_softmax(x, axis=-1),
        "logsumexp": lambda x, t: np.asarray(sp.logsumexp(x, axis=-1)),
        "cross_entropy": cross_entropy,
    }


_TORCH_DEFAULT_THREADS: list = []


def _torch(threads=1):
    """PyTorch on `threads` threads (None: its default, every core), set before each call."""
    import torch
    import torch.nn.functional as F

    if not _TORCH_DEFAULT_THREADS:
        _TORCH_DEFAULT_THREADS.append(torch.get_num_threads())
    count = threads or _TORCH_DEFAULT_THREADS[0]

    def on(fn):
        def run(x, t):
            torch.set_num_threads(count)
            return fn(x, t)

        return run

    fns = {
        "softmax": lambda x, t: torch.softmax(x, -1).numpy(),
        "log_softmax": lambda x, t: torch.log_softmax(x, -1).numpy(),
        "logsumexp": lambda x, t: torch.logsumexp(x, -1).numpy(),
        "cross_entropy": lambda x, t: (
            F.cross_entropy(
                x.reshape(-1, x.shape[-1]), torch.from_numpy(t).reshape(-1), reduction="none"
            )
            .reshape(t.shape)
            .numpy()
        ),
    }
    return torch.from_numpy, {name: on(fn) for name, fn in fns.items()}


def _jax():
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    import jax
    import jax.numpy as jnp
    import optax

    jax.config.update("jax_enable_x64", True)
    softmax = jax.jit(lambda x: jax.nn.softmax(x, axis=-1))
    log_softmax = jax.jit(lambda x: jax.nn.log_softmax(x, axis=-1))
    logsumexp = jax.jit(lambda x: jax.scipy.special.logsumexp(x, axis=-1))
    ce = jax.jit(optax.softmax_cross_entropy_with_integer_labels)
    return jnp.asarray, {
        "softmax": lambda x, t: np.asarray(softmax(x).block_until_ready()),
        "log_softmax": lambda x, t: np.asarray(log_softmax(x).block_until_ready()),
        "logsumexp": lambda x, t: np.asarray(logsumexp(x).block_until_ready()),
        "cross_entropy": lambda x, t: np.asarray(ce(x, t).block_until_ready()),
    }


def _tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return tf.constant, {
        "softmax": lambda x, t: tf.nn.softmax(x, axis=-1).numpy(),
        "log_softmax": lambda x, t: tf.nn.log_softmax(x, axis=-1).numpy(),
        "logsumexp": lambda x, t: tf.reduce_logsumexp(x, axis=-1).numpy(),
        "cross_entropy": lambda x, t: tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=t, logits=x
        ).numpy(),
    }


def available(threads=False):
    """Return {framework: (prepare, {function: run})} for the installed frameworks.

    PyTorch, JAX and TensorFlow run on one thread; with `threads`, softmax_lib on one
    thread and PyTorch on all are added (softmax_lib's default is every core).
    """
    out = {"softmax_lib": _softmax_lib()}
    if threads:  # on one thread, for comparisons at equal thread counts
        out["softmax_lib 1 thread"] = _softmax_lib_within(lambda: on_threads(1))
    # the fused kernels switched off: the NumPy path, for comparison
    out |= {"numpy path": _softmax_lib_within(numpy_path), "scipy": _scipy()}
    factories = [("torch", _torch)]
    if threads:
        factories.append(("torch all threads", lambda: _torch(threads=None)))
    for name, factory in (*factories, ("jax", _jax), ("tensorflow", _tensorflow)):
        try:
            out[name] = factory()
        except ImportError:
            print(f"({name} is not installed: left out)")
    return out
