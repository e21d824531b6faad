"""bench/scale's figures (bench/scale.json) as one picture for bench/README.md: memory per open
event stream, CPU per logout of another user and page p99 against the number of open streams,
and requests during the expiry sweep against before it.

Usage: /usr/bin/python3 bench/plot.py bench/scale.json bench/scale.png (Debian's python3-matplotlib)."""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

source, target = sys.argv[1], sys.argv[2]
with open(source) as file:
    r = json.load(file)
levels = r["levels"]
streams = [level["streams"] for level in levels]

fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
fig.suptitle(f"bench/scale, release build, 2 cores ({r['date'][:10]})")

memory = axes[0][0]
with_streams = [level for level in levels if level["bytesPerStream"]]
memory.plot([l["streams"] for l in with_streams], [l["bytesPerStream"] / 1024 for l in with_streams], "o-", label="app: /session/events")
memory.axhline(r["bareStreamBytes"] / 1024, color="grey", linestyle="--", label="bare axum SSE stream")
memory.axhline(1.2 * r["bareStreamBytes"] / 1024, color="red", linestyle=":", label="budget (1.2 × bare)")
memory.set(title="Memory per open event stream", xlabel="open streams", ylabel="KiB per stream", ylim=(0, None))
memory.legend()

cpu = axes[0][1]
cpu.plot(streams, [level["logoutMs"] for level in levels], "o-", label="app")
cpu.axhline(1.2 * levels[0]["logoutMs"], color="red", linestyle=":", label="budget (1.2 × with none)")
cpu.set(title="Server CPU per logout of another user", xlabel="open streams", ylabel="ms", ylim=(0, None))
cpu.legend()

latency = axes[1][0]
latency.plot(streams, [level["guestP99"] for level in levels], "o-", label="guest page")
latency.plot(streams, [level["signedInP99"] for level in levels], "s-", label="signed-in page")
latency.axhline(1.5 * levels[0]["signedInP99"], color="red", linestyle=":", label="budget (1.5 × signed-in, none open)")
latency.set(title="Page latency p99 (wrk, 32 connections)", xlabel="open streams", ylabel="ms", ylim=(0, None))
latency.legend()

sweep = axes[1][1]
s = r["sweep"]
names = ["p50", "p99", "max"]
before = [s["quiet"][name] for name in names]
during = [s["during"][name] for name in names]
x = range(len(names))
sweep.bar([i - 0.2 for i in x], before, 0.4, label="before")
sweep.bar([i + 0.2 for i in x], during, 0.4, label=f"during the sweep of {s['deleted']:,} ({s['ms']:,} ms)")
sweep.axhline(50, color="red", linestyle=":", label="no request waits > 50 ms")
sweep.set_xticks(list(x), names)
sweep.set(title="Signed-in page during the expiry sweep (1M sessions)", ylabel="ms")
sweep.legend()

fig.tight_layout()
fig.savefig(target, dpi=80)
