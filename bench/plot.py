"""Draws p99 delivery latency against deliveries/s, one line per system and one panel per room
size, from the JSON that bench/report.mjs writes: {"panels": [{"title", "series": {label: [[x, y], ...]}}]}.

    python bench/plot.py chart-data.json out.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen before pyplot loads)

data_path, out_path = sys.argv[1], sys.argv[2]
with open(data_path) as f:
    panels = json.load(f)["panels"]

fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
for ax, panel in zip(axes[0], panels):
    for label, points in panel["series"].items():
        xs = [x / 1000 for x, _ in points]
        ys = [y for _, y in points]
        ax.plot(xs, ys, marker="o", markersize=3, label=label)
    for budget in (5, 50):
        ax.axhline(budget, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("deliveries per second (thousands)")
    ax.set_ylabel("p99 delivery latency (ms)")
    ax.set_title(panel["title"])
    ax.grid(True, which="both", linewidth=0.3)
    ax.legend()
fig.tight_layout()
fig.savefig(out_path, dpi=110)
