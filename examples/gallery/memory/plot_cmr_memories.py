"""
CMR's pre-experimental memories MFC and MCF
===========================================

CMR (the model of free recall in :mod:`engramlab.cmr`) is built from two linear
memories: MFC maps items to context, MCF maps context back to items. ``init_mfc`` and
``init_mcf`` build their initial structures as in the seed notebook; studying a list then
strengthens ``MCF[context, item]`` one item at a time. The heat maps show MCF before and
after five study events.
"""

import matplotlib.pyplot as plt
import numpy as np

from engramlab.memory import associate_sequence, init_mcf, init_mfc
from engramlab.plots.memory import plot_memory_heatmap

n_items = 8
context_size = n_items + 1  # unit 0 is the start-of-list unit
mfc = init_mfc(n_items, context_size, learning_rate=0.5)
mcf = init_mcf(item_count=n_items, context_size=context_size, item_support=0.2,
               shared_support=0.05)

# study items 0..4: each item's context unit (i + 1) is associated with the item
contexts = np.eye(context_size)[1:6]
items = np.eye(n_items)[:5]
studied, _ = associate_sequence(mcf, contexts, items, np.full(5, 0.4))

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
plot_memory_heatmap(mcf, ax=axes[0], title="MCF before study", vmin=0, vmax=0.7)
plot_memory_heatmap(studied, ax=axes[1], title="MCF after studying items 0-4", vmin=0,
                    vmax=0.7)
fig.tight_layout()
print("MFC[i, i+1] =", float(mfc.state[0, 1]), "; MCF[1, 0] before/after:",
      float(mcf.state[1, 0]), float(studied.state[1, 0]))
plt.show()
