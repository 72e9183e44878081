"""The sections of docs/benchmarks.md besides Throughput: per-packet program
cost, its growth with the table sizes, and the time to load 10^6 SIDs. Each
function runs its measurement and returns the section's markdown; run.py
assembles them (tools/bench/run.py --sections ...)."""
import os, platform, resource, shlex, statistics, subprocess, tempfile, time

PERF_CASES = ["End_SL2_to_1", "EndT_table_100", "IPv6_not_ours", "HEncaps_2_SIDs_IPv6_inner",
              "HEncaps_2_SIDs_IPv4_inner"]
# The per-packet section's cases: packet_perf's own default list (in
# tests/packet/packet_perf.cpp) and two decapsulating ones (tests/packet/decap_cases.cpp),
# named, since packet_perf without names runs only its default list.
PER_PACKET_CASES = ["End_SL2_to_1", "EndX_global_nh6", "EndT_table_100", "HEncaps_2_SIDs_IPv6_inner",
                    "HEncaps_2_SIDs_IPv4_inner", "HEncapsRed_2_SIDs_IPv6_inner", "IPv6_not_ours",
                    "EndDT46_IPv4_inner_no_SRH", "EndDX6_nh6"]
SCALE = [0, 1000, 100000, 1000000]
LOAD_N = 1000000


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return f"{os.cpu_count()} vCPU {cpu}, Linux {platform.release()}"


def commit(root):
    r = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
    return r.stdout


def per_packet(perf, root):
    out = run([perf] + PER_PACKET_CASES)
    return ["## Per-packet program cost (BPF_PROG_TEST_RUN repeat loop)", "",
            "Command (root; after the normal build; -n REPEAT (default 10^6) -r ROUNDS (default 7)):", "",
            "    ./build/tests/packet/packet_perf " + " \\\n        ".join(
                " ".join(PER_PACKET_CASES[i:i + 4]) for i in range(0, len(PER_PACKET_CASES), 4)), "",
            "It replays the packet test cases (same frames, same fixture namespace with",
            "static routes and neighbours) through the XDP program, 10^6 repetitions per",
            "run. `tools/bench/restore.bpf.c` restores the original frame before each",
            "repetition (the loop reuses one buffer, and the datapath rewrites it), then",
            "tail-calls the program measured; the same loop with a do-nothing target is",
            "run interleaved, and its cost (restore_ns) is subtracted from the others.",
            "srv6_ns: our program with the forwarding cache on (a watcher leases it, as",
            "srv6d does; the repeats are served from the cache); fib_ns: the same with",
            "the cache off (one `bpf_fib_lookup` per packet); base_ns: the baseline,",
            "`tools/bench/ceiling.bpf.c` (the least an XDP router does: parse Ethernet and",
            "IPv6 or IPv4, rewrite the MACs, redirect to a fixed egress; the throughput",
            "benchmark's (d)); ratio = srv6_ns / base_ns. Medians of 7 interleaved rounds,",
            "ns per packet.", "",
            f"Machine: {machine()}; shared and noisy (single runs vary by up to 2x).",
            f"Commit {commit(root)}, {time.strftime('%Y-%m-%d')}:", "",
            "```", out.strip(), "```", "",
            "- The baseline costs a few ns: the kernel reports whole ns per repetition,",
            "  so base_ns is known to about 1 ns and the ratio to 15-50 %; it says",
            "  \"tens of times\", not more. In the loop the frame is hot in cache and no",
            "  redirect is done: these are the programs' own costs. The throughput",
            "  benchmark's a/d shows what they weigh in a real receive path, where the",
            "  driver's own work costs some 250-400 ns a frame here.",
            "- fib_ns - srv6_ns is what the forwarding cache saves: the FIB lookup was",
            "  most of every behaviour's cost. End costs more than End.T without the",
            "  cache: End looks its route up through the policy rules (as the kernel's",
            "  seg6_lookup_nexthop does), End.T directly in its table.",
            "- IPv6_not_ours is the cost that traffic we do not own pays: two LPM lookups.",
            "- EndDT46_IPv4_inner_no_SRH (inner IPv4 looked up in table 100) and EndDX6_nh6",
            "  (inner IPv6 to a next hop) are decapsulations: outer IPv6, no SRH, the inner",
            "  packet forwarded; base_ns forwards the outer packet as it is.", ""]


def scale(perf):
    outs, srv6 = [], {}
    for n in SCALE:
        outs.append(run([perf, "-r", "5", "--entries", str(n)] + PERF_CASES).strip())
        for line in outs[-1].splitlines():
            f = line.split()
            if f and f[0] in PERF_CASES:
                srv6.setdefault(f[0], {})[n] = float(f[4])  # srv6_ns
    verdict = []
    for c, by_n in srv6.items():
        growth = by_n[SCALE[-1]] / by_n[SCALE[0]] - 1 if by_n[SCALE[0]] > 0 else 0
        verdict.append(f"- {c}: {by_n[SCALE[0]]:.0f} ns at 0, {by_n[SCALE[-1]]:.0f} ns at 10^6 "
                       f"({100 * growth:+.0f} %): {'met' if growth <= 0.25 else 'MISSED'}")
    return ["## Per-packet cost at scale", "",
            f"Command: `build/tests/packet/packet_perf -r 5 --entries N {' '.join(PERF_CASES)}`",
            "for N = " + ", ".join(f"{n:,}".replace(",", " ") for n in SCALE) +
            " (N SIDs, N IPv6 and N IPv4 policies besides the fixture's: /128 SIDs in",
            "fc00:f000::/20, /64 and /32 policies), 10^6 repetitions, medians of 5 rounds,",
            f"{time.strftime('%Y-%m-%d')}:", "",
            "```", "\n".join(outs), "```", "",
            "The SID and policy tables are LPM tries: a lookup's cost depends on the key",
            "length, not on the number of entries; the forwarding cache is per CPU and",
            "direct-mapped (2048 slots), so neither grows with the tables either. Target:",
            "per-packet cost at 10^6 entries within 25 % of the cost at 1 (srv6_ns):", ""] + verdict + [""]


def timed(argv):
    """Wall, user and system seconds of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    run(argv)
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def load(srv6ctl, rounds=3):
    ns = f"sb-load{os.getpid()}"
    fd, path = tempfile.mkstemp(prefix="sids-1M.", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        for i in range(LOAD_N):
            f.write(f"sid add fc00:{i >> 16:x}:{i & 0xffff:x}::e action End\n")
    loads, shows, creates = [], [], []
    try:
        for _ in range(rounds):
            subprocess.run(["ip", "netns", "add", ns], check=True)
            try:
                creates.append(timed([srv6ctl, "-n", ns, "--capacity", "1048576",
                                      "instance", "add", "default"]))
                loads.append(timed([srv6ctl, "-n", ns, "-b", path]))
                shows.append(timed([srv6ctl, "-n", ns, "-j", "sid", "show"]))
            finally:
                subprocess.run([srv6ctl, "-n", ns, "instance", "del", "--all"])
                subprocess.run(["ip", "netns", "del", ns])
    finally:
        os.unlink(path)
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    row = lambda name, xs: (f"{name:<34} {med(xs, 0):>7.2f} {med(xs, 1):>7.2f} {med(xs, 2):>7.2f}   "
                            + " ".join(f"{x[0]:.2f}" for x in xs))
    return ["## Loading many SIDs", "",
            "Commands (root; a fresh namespace per round; the file is 10^6 lines",
            "`sid add fc00:X:Y::e action End`, distinct X:Y):", "",
            "    srv6ctl -n NS --capacity 1048576 instance add default   # room for 2^20 entries",
            "    srv6ctl -n NS -b sids-1M.txt                  # all or nothing, batch map operations",
            "    srv6ctl -n NS -j sid show", "",
            f"{rounds} rounds, medians (seconds), {time.strftime('%Y-%m-%d')}:", "",
            "```", f"{'step':<34} {'wall':>7} {'user':>7} {'sys':>7}   wall of each round",
            row("create a 2^20-entry instance", creates),
            row("load 10^6 SIDs (-b)", loads),
            row("list 10^6 SIDs (-j sid show)", shows), "```", "",
            f"Target: 10^6 SIDs loaded in <= 10 s: {'met' if med(loads, 0) <= 10 else 'MISSED'} "
            f"({med(loads, 0):.1f} s).", ""]
