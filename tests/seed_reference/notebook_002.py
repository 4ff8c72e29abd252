"""The code cells of seed 002 (jaxcmr's "Associative memory matrices for CMR" notebook),
in order, as the seed prints them, with only the import lines changed (jaxcmr ->
engramlab). The seed's text lost one cell: the one that defines ``item_count``,
``context_size``, ``item_support``, ``shared_support`` and ``learning_rate``;
:data:`PARAMETER_CELL` supplies it (10 items, as the evolution grid's "After 10 items"
panel requires; one start unit plus one unit per item; supports and rate small enough for
the grid's ``vmax=0.6``). The last cell is the notebook's closing statement, "LinearMemory
implements the Memory protocol", as code.
"""

IMPORT_CELL = """\
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from engramlab.memory import LinearMemory
from engramlab.typing import Memory
"""

PARAMETER_CELL = """\
item_count = 10
context_size = item_count + 1
item_support = 0.2
shared_support = 0.05
learning_rate = 0.3
"""

CELLS = [
    IMPORT_CELL,
    PARAMETER_CELL,
    """\
mcf = LinearMemory.init_mcf(item_count, context_size, item_support, shared_support)
plt.figure(figsize=(8, 6))
plt.imshow(mcf.state, cmap='viridis', aspect='auto')
plt.colorbar(label='Association Strength')
plt.xlabel('Item')
plt.ylabel('Context Unit')
plt.title('MCF: Initial State')
plt.tight_layout()
plt.show()
""",
    """\
# Create item and context patterns
items = jnp.eye(item_count)
contexts = jnp.eye(context_size)
# Associate context unit 1 with item 0
mcf_updated = mcf.associate(contexts[1], items[0], learning_rate)
# Probe with context unit 1
activation = mcf_updated.probe(contexts[1])
print(f"Item activations when probing with context unit 1:")
print(f" {activation}")
print(f" Most activated item: {activation.argmax()}")
""",
    """\
# Simulate studying items and forming associations
mcf_states = [mcf.state.copy()]
current_mcf = mcf
for i in range(item_count):
    # Simplified: associate context unit i+1 with item i
    current_mcf = current_mcf.associate(contexts[i + 1], items[i], learning_rate)
    mcf_states.append(current_mcf.state.copy())
# Visualize evolution
fig, axes = plt.subplots(2, 3, figsize=(12, 8))
positions = [0, 2, 4, 6, 8, 10]
for ax, pos in zip(axes.flat, positions):
    im = ax.imshow(mcf_states[pos], cmap='viridis', aspect='auto', vmin=0, vmax=0.6)
    ax.set_title(f'After {pos} items')
    ax.set_xlabel('Item')
    ax.set_ylabel('Context Unit')
plt.suptitle('MCF Association Matrix Evolution')
plt.tight_layout()
plt.show()
""",
    """\
# Track association strength for item 0 from context unit 1
association_strengths = [state[1, 0] for state in mcf_states]
plt.figure(figsize=(8, 4))
plt.plot(range(len(association_strengths)), association_strengths, 'o-', linewidth=2, markersize=8)
plt.axhline(y=shared_support + item_support, color='r', linestyle='--', label='Initial (support)')
plt.xlabel('Study Position')
plt.ylabel('Association Strength')
plt.title('MCF[context_1, item_0] Association Growth')
plt.legend()
plt.grid(True, alpha=0.3)
plt.tight_layout()
plt.show()
""",
    """\
assert isinstance(mcf, Memory)
""",
]
