"""Plots of tools/bench/run.py's results: delivered against offered load, one
line per variant, one PNG per behaviour (matplotlib, Debian's
python3-matplotlib; scripts/install-deps.sh installs it)."""


def check():
    """Fail early, not after a long run, when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise SystemExit("run.py: needs python3-matplotlib (scripts/install-deps.sh), "
                         "and Debian's python3 (/usr/bin/python3)")


def throughput(path, name, res, labels):
    """res: one behaviour of run.measure(); labels: every variant's (those
    res lacks are left out). The sweep's medians make each variant's line
    (sorted by offered load); the overload point (4x the peak, or what the
    generator could offer) is drawn hollow at its end. Returns path."""
    import matplotlib
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    top = 0
    for i, (v, label) in enumerate(labels.items()):
        if v not in res["sweep"]:
            continue  # a variant this row has not (the kernel lacks the behaviour)
        pts = sorted((p["offered"], p["delivered"]) for p in res["sweep"][v].values())
        o = res["over"][v]
        # colour by the variant's place in labels: the same in every plot
        line, = ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", ms=4, label=label, color=f"C{i}")
        ax.plot([pts[-1][0], o["offered"]], [pts[-1][1], o["delivered"]], ls=":", color=line.get_color())
        ax.plot([o["offered"]], [o["delivered"]], marker="o", ms=7, mfc="none", color=line.get_color())
        top = max(top, o["offered"], *(x for x, _ in pts))
    ax.plot([0, top], [0, top], color="grey", lw=0.8, ls="--", label="delivered = offered")
    ax.set_xlim(0, top * 1.03)
    ax.set_ylim(0, None)
    ax.set_xlabel("offered, Mpps")
    ax.set_ylabel("delivered, Mpps (one DUT core)")
    ax.set_title(f"{name}: delivered vs offered (medians; hollow: 4x peak)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
