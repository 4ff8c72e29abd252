"""Demo section for the linear associative memory (seed 002 notebook)."""

from __future__ import annotations

from ..experiments.demo import DemoContext
from ..experiments.report import Section, Table

#: Illustrative notebook settings (the seed does not print its values).
ITEM_COUNT = 10
CONTEXT_SIZE = ITEM_COUNT + 1
ITEM_SUPPORT = 0.2
SHARED_SUPPORT = 0.05
LEARNING_RATE = 0.3


def demo_section(ctx: DemoContext) -> Section:
    """MCF initial structure, association, probing and the evolution over study."""
    import matplotlib.pyplot as plt
    import numpy as np
    import xarray as xr

    from ..plots.memory import (
        plot_association_growth,
        plot_memory_evolution,
        plot_memory_heatmap,
    )
    from ._linear import associate_sequence, init_mcf, init_mfc

    mcf = init_mcf(ITEM_COUNT, CONTEXT_SIZE, ITEM_SUPPORT, SHARED_SUPPORT)
    mfc = init_mfc(ITEM_COUNT, CONTEXT_SIZE, LEARNING_RATE)
    items = np.eye(ITEM_COUNT)
    contexts = np.eye(CONTEXT_SIZE)

    probed = mcf.associate(contexts[1], items[0], LEARNING_RATE).probe(contexts[1])
    # The notebook's simplified study: context unit i+1 <-> item i, in order.
    _, states = associate_sequence(mcf, contexts[1:], items, LEARNING_RATE)
    states = np.asarray(states)
    growth = states[:, 1, 0]

    figs = []
    ax = plot_memory_heatmap(mcf)
    figs.append(ctx.figure(ax.figure, "mcf_initial", title="MCF: initial state",
                           caption=f"Context-to-item memory before study ({CONTEXT_SIZE} "
                           f"context units x {ITEM_COUNT} items). Row 0 is the start-of-list "
                           f"unit (no associations); each in-list unit carries shared support "
                           f"{SHARED_SUPPORT} to every item plus item support {ITEM_SUPPORT} "
                           "to its own item."))
    fig = plot_memory_evolution(states)
    figs.append(ctx.figure(fig, "mcf_evolution", title="MCF association matrix evolution",
                           caption="The matrix after 0, 2, 4, 6, 8 and 10 studied items; each "
                           f"study event adds learning_rate = {LEARNING_RATE} to the entry "
                           "linking the item's context unit to the item (colour scale 0-0.6 "
                           "as in the notebook)."))
    ax = plot_association_growth(growth, initial=SHARED_SUPPORT + ITEM_SUPPORT)
    figs.append(ctx.figure(ax.figure, "association_growth",
                           title="Growth of MCF[context 1, item 0]",
                           caption="The entry grows by the learning rate when item 0 is studied "
                           "(position 1) and stays constant afterwards: associations of other "
                           "items use other context units."))
    ax = plot_memory_heatmap(mfc, title="MFC: Initial State", xlabel="Context Unit",
                             ylabel="Item")
    figs.append(ctx.figure(ax.figure, "mfc_initial", title="MFC: initial state",
                           caption="Item-to-context memory before study: item i is tied to its "
                           f"own context unit i+1 with strength 1 - learning_rate = "
                           f"{1 - LEARNING_RATE:.2f}; unit 0 (start of list) is excluded."))
    plt.close("all")

    ctx.save_arrays("memory", xr.Dataset({
        "mcf_states": (("items_studied", "context_unit", "item"), states),
        "mfc_initial": (("item", "context_unit"), np.asarray(mfc.state)),
        "probe_after_one_association": (("item",), np.asarray(probed)),
    }))
    table = Table(caption="Item activations when probing with context unit 1 after "
                  "associating it with item 0",
                  columns=["item", "activation"],
                  rows=[[i, float(a)] for i, a in enumerate(np.asarray(probed))])
    return Section(
        key="memory",
        title="Linear associative memory (CMR's MFC and MCF)",
        text=(
            "A linear associative memory stores associations in a matrix M of shape "
            "(n_in, n_out): learning adds learning_rate * outer(x_in, x_out), retrieval is "
            "x_in @ M. CMR uses two of them: MFC maps items to context, MCF maps context to "
            "items. This section reproduces the seed notebook (jaxcmr's LinearMemory): the "
            "initial structures, one association and probe, and how MCF evolves over study."
            "\n\nSettings: "
            f"{ITEM_COUNT} items, {CONTEXT_SIZE} context units, item_support={ITEM_SUPPORT}, "
            f"shared_support={SHARED_SUPPORT}, learning_rate={LEARNING_RATE}."
        ),
        figures=figs,
        tables=[table],
        metrics={
            "mcf_initial_1_0": float(states[0, 1, 0]),
            "mcf_final_1_0": float(growth[-1]),
            "probe_argmax": int(np.argmax(probed)),
            "probe_max": float(np.max(probed)),
        },
    )
