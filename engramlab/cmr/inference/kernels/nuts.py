"""Samplers as functional kernels, in the style of BlackJAX: ``init`` and ``step`` pure
functions over typed states, each step reporting a typed :class:`SampleInfo`.

A :class:`Kernel` wraps a NumPyro ``MCMCKernel`` (NumPyro's ``NUTS``, or
:class:`~engramlab.cmr.inference.kernels.gibbs.GibbsKernel`), which keeps its own state
type (NumPyro's ``HMCState``, or ``GibbsState``) and still plugs into
``numpyro.infer.MCMC``. Warm-up (step size and mass-matrix adaptation) runs inside
``step`` for the first ``num_warmup`` iterations, as in NumPyro.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["Kernel", "SampleInfo", "from_mcmc_kernel", "hmc_info", "nuts"]


class SampleInfo(NamedTuple):
    """What one transition reports (per chain; the sample-stats of
    :func:`~engramlab.cmr.sample`):

    - ``diverging`` (bool): the trajectory diverged (energy error above NumPyro's bound);
    - ``num_steps`` (int): leapfrog steps of the tree (its cost in gradients);
    - ``accept_prob``: the mean Metropolis acceptance probability over the tree;
    - ``step_size``: the leapfrog step size (adapted in warm-up, fixed after);
    - ``potential_energy``: ``-log p(x | data)`` at the new state (up to a constant,
      nats, on the sampler's unconstrained scale).
    """

    diverging: Any
    num_steps: Any
    accept_prob: Any
    step_size: Any
    potential_energy: Any


class Kernel(NamedTuple):
    """A sampler: ``init(rng_key, position) -> state`` (``position`` the chain's starting
    point ``(D,)``), ``step(state) -> (state, SampleInfo)`` (one transition; the PRNG key
    is carried in the state, as NumPyro does) and ``position(state) -> (D,)`` (the draw
    kept)."""

    init: Callable[[Any, Any], Any]
    step: Callable[[Any], tuple[Any, SampleInfo]]
    position: Callable[[Any], Any]


def hmc_info(state: Any) -> SampleInfo:
    """:class:`SampleInfo` of a NumPyro ``HMCState``."""
    return SampleInfo(state.diverging, state.num_steps, state.accept_prob,
                      state.adapt_state.step_size, state.potential_energy)


def from_mcmc_kernel(kernel: Any, num_warmup: int,
                     info: Callable[[Any], SampleInfo] = hmc_info) -> Kernel:
    """A :class:`Kernel` of the NumPyro ``MCMCKernel`` ``kernel`` with ``num_warmup``
    warm-up iterations, a potential-only kernel (no model arguments); ``info`` reads the
    :class:`SampleInfo` of its state. The draws are exactly those of ``kernel.init`` and
    ``kernel.sample`` called as NumPyro's ``MCMC`` calls them."""
    num_warmup = int(num_warmup)
    field = kernel.sample_field

    def init(rng_key: Any, position: Any) -> Any:
        return kernel.init(rng_key, num_warmup, position, (), {})

    def step(state: Any) -> tuple[Any, SampleInfo]:
        state = kernel.sample(state, (), {})
        return state, info(state)

    def position(state: Any) -> Any:
        return getattr(state, field)

    return Kernel(init, step, position)


def nuts(potential: Callable[[Any], Any], *, num_warmup: int, target_accept: float,
         max_tree_depth: int) -> Kernel:
    """NumPyro's NUTS on ``potential(y)`` (``-log p``, ``y`` ``(D,)``): diagonal mass
    matrix and step size adapted for ``num_warmup`` iterations towards an acceptance
    probability of ``target_accept``; at most ``2^max_tree_depth - 1`` leapfrog steps per
    transition."""
    from numpyro.infer import NUTS

    return from_mcmc_kernel(NUTS(potential_fn=potential, target_accept_prob=target_accept,
                                 max_tree_depth=max_tree_depth), num_warmup, hmc_info)
