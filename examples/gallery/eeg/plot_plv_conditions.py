"""
Gamma phase locking: emotional vs neutral trials
================================================

Synthetic EEG with a known answer: 8 channels, 40 trials per condition, 40 Hz bursts
whose phase offsets give every channel pair a PLV of 0.78 (emotional) or 0.62
(neutral), the values of seed 000's table. ``eeg.phase_locking`` band-passes 30-80 Hz
(MNE's zero-phase FIR), takes Hilbert phases and computes the across-trial PLV in the
0.3-0.7 s window; ``compare`` gives mean ± jackknife SEM, a permutation p-value and
Cohen's d.
"""

import matplotlib.pyplot as plt

from engramlab import eeg
from engramlab.plots.eeg import plot_condition_bars, plot_plv_matrix

sim = eeg.synthetic_eeg(seed=0, plv=eeg.SEED_PLV, n_trials=40, n_channels=8)
res = eeg.phase_locking(sim.epochs, band=(30, 80), window=(0.3, 0.7))
cmp = res.compare(("emotional", "neutral"), n_permutations=500, seed=0)
print(cmp.table.round(3).to_string(index=False))
print(f"permutation p = {cmp.p_value:.4f}, Cohen's d = {cmp.effect_size:.2f}")

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4))
plot_plv_matrix(res.matrix("emotional"), ax=ax0, title="PLV matrix, emotional trials")
plot_condition_bars(cmp, ax=ax1, reference={c: (eeg.SEED_PLV[c], eeg.SEED_SEM[c])
                                            for c in eeg.SEED_PLV})
fig.tight_layout()
plt.show()
