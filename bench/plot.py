"""Draws p99 delivery latency against deliveries/s, one line per system and one panel per room
size, from the JSON that bench/report.mjs writes: {"panels": [{"title", "series": {label: [[x, y], ...]}}]}.

    python bench/plot.py chart-data.json out.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen before pyplot loads)

# One colour and marker per system, the same in every panel and every chart, so a curve is
# recognised at a glance; a system not listed here gets matplotlib's next colour.
STYLES = {
    "chat gateway": {"color": "tab:blue", "marker": "o"},
    "bare uWS + ioredis relay": {"color": "tab:grey", "marker": "s"},
    "Socket.IO 4 + redis-adapter": {"color": "tab:orange", "marker": "^"},
    "Centrifugo 6 (Redis engine)": {"color": "tab:green", "marker": "D"},
}

data_path, out_path = sys.argv[1], sys.argv[2]
with open(data_path) as f:
    panels = json.load(f)["panels"]

fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
for ax, panel in zip(axes[0], panels):
    for label, points in panel["series"].items():
        xs = [x / 1000 for x, _ in points]
        ys = [y for _, y in points]
        style = STYLES.get(label, {"marker": "o"})
        ax.plot(xs, ys, markersize=3, label=label, **style)
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
