"""The samplers of :func:`~engramlab.cmr.sample` as functional kernels
(:class:`Kernel`: ``init`` / ``step`` over typed states, :class:`SampleInfo` per step):

- :func:`nuts`: NumPyro's NUTS on the whole posterior (``sampler="nuts"``);
- :func:`gibbs_kernel` of a :class:`GibbsKernel`: NUTS within Gibbs on the centred
  hierarchical model (``sampler="gibbs"``, :mod:`.gibbs`).

Both wrap NumPyro ``MCMCKernel`` s, so they also run under ``numpyro.infer.MCMC``.
"""

from .gibbs import GibbsKernel, GibbsState, gibbs_info, gibbs_kernel
from .nuts import Kernel, SampleInfo, from_mcmc_kernel, hmc_info, nuts

__all__ = ["GibbsKernel", "GibbsState", "Kernel", "SampleInfo", "from_mcmc_kernel",
           "gibbs_info", "gibbs_kernel", "hmc_info", "nuts"]
