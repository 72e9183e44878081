#!/usr/bin/python3
"""Throughput benchmark: every behaviour row through (a) our datapath at XDP
(with srv6d, so its forwarding cache is on), (a') the same without srv6d
(a FIB lookup per packet), (b) at TC, (c) the kernel's seg6/seg6local (where
it has the behaviour), (d) the ceiling (parse, rewrite MACs, redirect) and
(e) a bare redirect, in one run, interleaved.

    tools/bench/run.py [--sections perf,scale,load,throughput] [--rounds 5]
                       [--seconds 0.5] [--only End] [--no-doc]

Runs the per-packet, scale and load measurements too (tools/bench/sections.py)
and writes all of docs/benchmarks.md; sections not asked for keep their text.

Topology: gen --veth-- DUT --veth-- sink, one namespace each. The DUT's
receiving veth runs threaded NAPI pinned to CPU 1 (the DUT's own core); the
generator (build/tools/bench/srv6bench gen) and the sink's NAPI thread share
CPU 0. Each round visits every variant (in a rotated order) and sweeps the
offered load; the peak is the best median delivered rate, then every variant
is offered 4x its peak (the generator offers what it can when that is more).
Writes the "Throughput" section of docs/benchmarks.md (everything above it is
kept) and one plot per behaviour (docs/img/); raw medians in
build/bench-throughput.json. Root; run from anywhere after the normal build.
"""
import argparse, json, os, shlex, shutil, signal, socket, statistics, struct, subprocess, sys, tempfile, textwrap

import plot
import sections
import tcp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Copied to a private directory at start: a rebuild during the run must not
# swap (or briefly remove) the binaries under it.
BUILT = {"BENCH": f"{ROOT}/build/tools/bench/srv6bench", "SRV6CTL": f"{ROOT}/build/tools/srv6ctl/srv6ctl",
         "SRV6D": f"{ROOT}/build/tools/srv6d/srv6d", "PERF": f"{ROOT}/build/tests/packet/packet_perf"}
BENCH, SRV6CTL, SRV6D, PERF = BUILT["BENCH"], BUILT["SRV6CTL"], BUILT["SRV6D"], BUILT["PERF"]
DAEMON = None  # srv6d in the DUT's namespace, for the whole run but (a')
DOC = f"{ROOT}/docs/benchmarks.md"
IMG = f"{ROOT}/docs/img"  # plots, referenced from DOC

GEN, DUT, SINK = "sb-gen", "sb-dut", "sb-sink"
MAC = {"sbg0": "02:5b:00:00:00:01", "sbd0": "02:5b:00:00:01:00",
       "sbd1": "02:5b:00:00:01:01", "sbs0": "02:5b:00:00:02:00"}
DUT_CPU, GEN_CPU = 1, 0
NAPI_PRIO = 50  # SCHED_FIFO for the NAPI threads (see pin_napi)
# Paced frames leave in bursts of this many (gen.bpf.c: one frame at a time
# would wake the DUT's NAPI thread for every frame). 64 = a NAPI poll's budget.
GEN_BURST = 64

# ---- packets (built here, by hand: no dependency on the datapath's code) ----

def a6(s): return socket.inet_pton(socket.AF_INET6, s)
def mac(s): return bytes.fromhex(s.replace(":", ""))
def eth(payload, src="sbg0", dst="sbd0", etype=0x86DD):
    return mac(MAC[dst]) + mac(MAC[src]) + struct.pack("!H", etype) + payload

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16: s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def udp6(src, dst, n=18):
    """UDP with a valid checksum; src/dst are the pseudo-header's (final) addresses."""
    data = bytes(range(n))
    h = struct.pack("!HHHH", 5000, 6000, 8 + n, 0)
    c = csum(a6(src) + a6(dst) + struct.pack("!IxxxB", 8 + n, 17) + h + data) or 0xFFFF
    return h[:6] + struct.pack("!H", c) + data

def ip6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB", 6 << 28, len(payload), nh, hlim) + a6(src) + a6(dst) + payload

def srh(segs, sl, nh, payload):
    """segs in travel order; the SRH lists them reversed (segment 0 is the last)."""
    lst = b"".join(a6(s) for s in reversed(segs))
    return struct.pack("!BBBBBBH", nh, 2 * len(segs), 4, sl, len(segs) - 1, 0, 0) + lst + payload

def ip4_udp(src, dst, n=18):
    """IPv4 + UDP with a valid checksum, as a Linux UDP socket sends it. Not 0
    (allowed in IPv4): on a veth ingress the datapath sends a UDP datagram
    without checksum through the skb path (bpf/csum.h: a tunnel inside may
    carry a checksum left to offload), so every frame would take TC."""
    data = bytes(range(n))
    h = struct.pack("!HHHH", 5000, 6000, 8 + n, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", 17, 8 + n)
    u = h[:6] + struct.pack("!H", csum(pseudo + h + data) or 0xFFFF) + data
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(u), 0, 0, 64, 17, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + u

def srv6_frame(src, segs, sl):
    """IPv6 + SRH + UDP, DA = the active segment."""
    return eth(ip6(src, segs[len(segs) - 1 - sl], 43, srh(segs, sl, 17, udp6(src, segs[-1]))))

def decap_frame(sid, inner_dst):
    """What an H.Encaps.Red with one SID sends: outer IPv6 to the SID, no SRH,
    next header 4 or 41, then the inner IPv4 or IPv6 + UDP packet to inner_dst."""
    if ":" in inner_dst:
        return eth(ip6("fd00:1::2", sid, 41, ip6("2001:db8:a::1", inner_dst, 17, udp6("2001:db8:a::1", inner_dst))))
    return eth(ip6("fd00:1::2", sid, 4, ip4_udp("198.51.100.1", inner_dst)))

# ---- behaviours: one row each; adding a behaviour is adding a row ----------
# kernel / srv6ctl: (setup, teardown) commands run in the DUT's namespace
# (srv6ctl rows are its arguments); kernel=None: the kernel has no such
# behaviour here, and no_kernel says why (the row has no variant (c)); dut
# (optional): (setup, teardown) for both, e.g. a routing table. frame: the
# packet the generator offers. Every row's packet leaves toward the sink:
# fc00:9::/64 or 10.9.0.0/24 routed to it, or its own address (fd00:2::2,
# 192.168.2.2). note (optional): a sentence for the document.
# Table 100, a tenant's: the decapsulating rows look their inner destination up there.
TENANT = (["ip -6 route add fc00:9::/64 via fd00:2::2 dev sbd1 table 100",
           "ip route add 10.9.0.0/24 via 192.168.2.2 dev sbd1 table 100"],
          ["ip -6 route flush table 100", "ip route flush table 100"])
NO_DT46 = ("No kernel variant: the kernel's End.DT4 and End.DT46 need a VRF device bound to the"
           " table (`vrftable`), and this kernel has no VRF devices (CONFIG_NET_VRF is not set):"
           " `ip -6 route add ... encap seg6local action End.DT46 vrftable 100` is refused (EINVAL).")
BEHAVIOURS = [
    dict(name="End",
         kernel=(["ip -6 route add fc00:e::1/128 encap seg6local action End dev sbd0"],
                 ["ip -6 route del fc00:e::1/128"]),
         srv6ctl=(["sid add fc00:e::1 action End"], ["sid del fc00:e::1"]),
         frame=lambda: srv6_frame("fd00:1::2", ["fc00:e::1", "fc00:9::1"], 1)),
    dict(name="End.X",
         kernel=(["ip -6 route add fc00:e::2/128 encap seg6local action End.X nh6 fd00:2::2 dev sbd0"],
                 ["ip -6 route del fc00:e::2/128"]),
         srv6ctl=(["sid add fc00:e::2 action End.X nh6 fd00:2::2"], ["sid del fc00:e::2"]),
         frame=lambda: srv6_frame("fd00:1::2", ["fc00:e::2", "fc00:9::1"], 1)),
    dict(name="End.T",
         dut=(["ip -6 route add fc00:9::/64 via fd00:2::2 dev sbd1 table 100"],
              ["ip -6 route flush table 100"]),
         kernel=(["ip -6 route add fc00:e::3/128 encap seg6local action End.T table 100 dev sbd0"],
                 ["ip -6 route del fc00:e::3/128"]),
         srv6ctl=(["sid add fc00:e::3 action End.T table 100"], ["sid del fc00:e::3"]),
         frame=lambda: srv6_frame("fd00:1::2", ["fc00:e::3", "fc00:9::1"], 1)),
    dict(name="H.Encaps IPv6",
         kernel=(["ip sr tunsrc set fd00:2::1",
                  "ip -6 route add 2001:db8:b::/64 encap seg6 mode encap segs fc00:9::1 dev sbd1"],
                 ["ip -6 route del 2001:db8:b::/64", "ip sr tunsrc set ::"]),
         srv6ctl=(["policy add 2001:db8:b::/64 encap segs fc00:9::1 src fd00:2::1"],
                  ["policy del 2001:db8:b::/64"]),
         frame=lambda: eth(ip6("2001:db8:a::1", "2001:db8:b::1", 17,
                               udp6("2001:db8:a::1", "2001:db8:b::1")))),
    dict(name="H.Encaps IPv4",
         kernel=(["ip sr tunsrc set fd00:2::1",
                  "ip route add 203.0.113.0/24 encap seg6 mode encap segs fc00:9::1 dev sbd1"],
                 ["ip route del 203.0.113.0/24", "ip sr tunsrc set ::"]),
         srv6ctl=(["policy add 203.0.113.0/24 encap segs fc00:9::1 src fd00:2::1"],
                  ["policy del 203.0.113.0/24"]),
         frame=lambda: eth(ip4_udp("198.51.100.1", "203.0.113.1"), etype=0x0800)),
    dict(name="H.Encaps.Red IPv6",
         kernel=(["ip sr tunsrc set fd00:2::1",
                  "ip -6 route add 2001:db8:c::/64 encap seg6 mode encap.red segs fc00:9::1,fc00:9::2 dev sbd1"],
                 ["ip -6 route del 2001:db8:c::/64", "ip sr tunsrc set ::"]),
         srv6ctl=(["policy add 2001:db8:c::/64 encap.red segs fc00:9::1,fc00:9::2 src fd00:2::1"],
                  ["policy del 2001:db8:c::/64"]),
         frame=lambda: eth(ip6("2001:db8:a::1", "2001:db8:c::1", 17,
                               udp6("2001:db8:a::1", "2001:db8:c::1")))),
    # a tenant's head-end: the generator's device bound to table 100, whose
    # policy (ours) or seg6 route (the kernel's, with the rules link set
    # installs and one keeping the SIDs in main) it meets
    dict(name="H.Encaps.Red IPv6, tenant table",
         # (the row's `link set` installs the iif rules for every variant)
         kernel=(["ip sr tunsrc set fd00:2::1",
                  "ip -6 rule add pref 999 to fc00::/16 lookup main",
                  "ip -6 route add 2001:db8:d::/64 encap seg6 mode encap.red segs fc00:9::1,fc00:9::2"
                  " dev sbd1 table 100"],
                 ["ip -6 route del 2001:db8:d::/64 table 100", "ip -6 rule del pref 999", "ip sr tunsrc set ::"]),
         srv6ctl=(["link set sbd0 table 100",
                   "policy add 2001:db8:d::/64 table 100 encap.red segs fc00:9::1,fc00:9::2 src fd00:2::1"],
                  ["policy del 2001:db8:d::/64 table 100", "link set sbd0 table main"]),
         frame=lambda: eth(ip6("2001:db8:a::1", "2001:db8:d::1", 17,
                               udp6("2001:db8:a::1", "2001:db8:d::1"))),
         note="sbd0 bound to table 100 (`link set`, whose rules `iif sbd0 lookup 100` and `iif sbd0"
              " unreachable` every variant has); the kernel: its seg6 route in table 100 and a pref 999"
              " rule keeping fc00::/16 in main."),
    # decapsulation: the generator is the ingress PE of an H.Encaps.Red with one SID
    dict(name="End.DT46 IPv4",
         dut=TENANT, kernel=None, no_kernel=NO_DT46,
         srv6ctl=(["sid add fc00:e::46 action End.DT46 table 100"], ["sid del fc00:e::46"]),
         frame=lambda: decap_frame("fc00:e::46", "10.9.0.1"),
         note="Inner IPv4 198.51.100.1 -> 10.9.0.1, looked up in table 100 (10.9.0.0/24 via the sink)."),
    dict(name="End.DT46 IPv6",
         dut=TENANT, kernel=None, no_kernel=NO_DT46,
         srv6ctl=(["sid add fc00:e::46 action End.DT46 table 100"], ["sid del fc00:e::46"]),
         frame=lambda: decap_frame("fc00:e::46", "fc00:9::1"),
         note="Inner IPv6 2001:db8:a::1 -> fc00:9::1, looked up in table 100 (fc00:9::/64 via the sink)."),
    dict(name="End.DT6",
         dut=TENANT,
         kernel=(["ip -6 route add fc00:e::6/128 encap seg6local action End.DT6 table 100 dev sbd0"],
                 ["ip -6 route del fc00:e::6/128"]),
         srv6ctl=(["sid add fc00:e::6 action End.DT6 table 100"], ["sid del fc00:e::6"]),
         frame=lambda: decap_frame("fc00:e::6", "fc00:9::1"),
         note="Inner IPv6 2001:db8:a::1 -> fc00:9::1 in table 100; the kernel's End.DT6 in its legacy"
              " `table` mode (no VRF device), the same lookup."),
    dict(name="End.DX4",
         kernel=(["ip -6 route add fc00:e::d4/128 encap seg6local action End.DX4 nh4 192.168.2.2 dev sbd0"],
                 ["ip -6 route del fc00:e::d4/128"]),
         srv6ctl=(["sid add fc00:e::d4 action End.DX4 nh4 192.168.2.2"], ["sid del fc00:e::d4"]),
         frame=lambda: decap_frame("fc00:e::d4", "192.168.2.2"),
         note="nh4 = the sink's own address, on the DUT's link to it; the inner destination is that"
              " address too: the kernel's End.DX4 with an on-link nh4 resolves the inner destination"
              " on that link (docs/semantics.md, Differences), so both forward to the sink."),
    dict(name="End.DX6",
         kernel=(["ip -6 route add fc00:e::d6/128 encap seg6local action End.DX6 nh6 fd00:2::2 dev sbd0"],
                 ["ip -6 route del fc00:e::d6/128"]),
         srv6ctl=(["sid add fc00:e::d6 action End.DX6 nh6 fd00:2::2"], ["sid del fc00:e::d6"]),
         frame=lambda: decap_frame("fc00:e::d6", "fc00:9::1"),
         note="nh6 = the sink's address fd00:2::2; inner IPv6 2001:db8:a::1 -> fc00:9::1."),
]

# ---- variants: how the DUT forwards ----------------------------------------
def ceiling_args(kind): return [BENCH, "attach", DUT, "sbd0", kind, "sbd1", MAC["sbs0"], MAC["sbd1"]]
VARIANTS = {  # name: (setup(behaviour), teardown(behaviour))
    "xdp": (lambda b: [srv6ctl("attach sbd0 xdp"), srv6ctl("attach sbd1 xdp")],
            lambda b: [srv6ctl("detach sbd0"), srv6ctl("detach sbd1")]),
    # without srv6d nothing follows sbd1's xdp-features: vouch for it (its
    # peer, the sink, runs XDP)
    "xdp-fib": (lambda b: [stop_srv6d(), srv6ctl("attach sbd0 xdp"), srv6ctl("attach sbd1 xdp egress xdp")],
                lambda b: [srv6ctl("detach sbd0"), srv6ctl("detach sbd1"), start_srv6d()]),
    "tc": (lambda b: [srv6ctl("attach sbd0 tc")], lambda b: [srv6ctl("detach sbd0")]),
    "kernel": (lambda b: [in_dut(c) for c in b["kernel"][0]],
               lambda b: [in_dut(c) for c in b["kernel"][1]]),
    "ceiling": (lambda b: [sh(ceiling_args("ceiling"))], lambda b: [sh([BENCH, "detach", DUT, "sbd0"])]),
    "bare": (lambda b: [sh(ceiling_args("bare"))], lambda b: [sh([BENCH, "detach", DUT, "sbd0"])]),
}
LABEL = {"xdp": "(a) ours, XDP", "xdp-fib": "(a') XDP, no cache", "tc": "(b) ours, TC", "kernel": "(c) kernel seg6",
         "ceiling": "(d) ceiling XDP", "bare": "(e) bare redirect"}

def variants(b):
    """The variants of a row: all, but (c) where the kernel lacks the behaviour."""
    return [v for v in VARIANTS if v != "kernel" or b["kernel"]]

# ---- shell helpers ----------------------------------------------------------
def sh(argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
    return r.stdout

def in_ns(ns, cmd, check=True): return sh(["ip", "netns", "exec", ns] + shlex.split(cmd), check)
def in_dut(cmd): return in_ns(DUT, cmd)
def srv6ctl(args): return sh([SRV6CTL, "-n", DUT] + shlex.split(args))

def start_srv6d():
    """srv6d on the generator's core (it only renews a lease every 200 ms)."""
    global DAEMON
    DAEMON = subprocess.Popen(["taskset", "-c", str(GEN_CPU), SRV6D, "-n", DUT],
                              stdout=subprocess.PIPE, text=True)
    if "watching" not in DAEMON.stdout.readline():
        raise RuntimeError("srv6d did not start")

def stop_srv6d():
    global DAEMON
    if DAEMON:
        DAEMON.terminate()
        DAEMON.wait(timeout=10)
        DAEMON = None

def napi_pids(dev):
    """The NAPI kthread(s) of dev: in threaded NAPI all of a device's receive
    work (for the DUT: XDP, TC, the kernel's forwarding, the transmit) runs there."""
    pids = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and open(f"/proc/{pid}/comm").read().startswith(f"napi/{dev}-"):
                pids.append(pid)
        except OSError:
            pass
    return pids

def pin_napi(dev, cpu):
    """Pin the NAPI kthread(s) of dev to cpu, real-time priority. Re-done after
    every change: attaching XDP can re-create the veth's NAPI and its thread.
    SCHED_FIFO because the machine is shared: a fuzzer or compiler on the same
    core would otherwise take half of the router's time (unthreaded NAPI runs
    in softirq, which also preempts user tasks)."""
    for pid in napi_pids(dev):
        sh(["taskset", "-pc", str(cpu), pid], check=False)
        sh(["chrt", "-f", "-p", str(NAPI_PRIO), pid], check=False)

def cleanup():
    # srv6ctl pins maps per namespace: remove its instances with the namespace
    if os.path.exists(f"/run/netns/{DUT}") and os.path.exists(SRV6CTL):
        subprocess.run([SRV6CTL, "-n", DUT, "instance", "del", "--all"], stderr=subprocess.DEVNULL)
    for ns in (GEN, DUT, SINK):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)

def topology():
    for ns in (GEN, DUT, SINK):
        sh(["ip", "netns", "add", ns])
    sh(["ip", "link", "add", "sbg0", "netns", GEN, "address", MAC["sbg0"], "type", "veth",
        "peer", "sbd0", "netns", DUT, "address", MAC["sbd0"]])
    sh(["ip", "link", "add", "sbd1", "netns", DUT, "address", MAC["sbd1"], "type", "veth",
        "peer", "sbs0", "netns", SINK, "address", MAC["sbs0"]])
    for ns, dev, addr in ((GEN, "sbg0", "fd00:1::2"), (DUT, "sbd0", "fd00:1::1"),
                          (DUT, "sbd1", "fd00:2::1"), (SINK, "sbs0", "fd00:2::2")):
        in_ns(ns, f"ip -6 addr add {addr}/64 dev {dev} nodad")
        in_ns(ns, f"ip link set {dev} up")
    # IPv4 toward the sink, for the rows that forward IPv4 (End.DX4, End.DT46)
    in_ns(DUT, "ip addr add 192.168.2.1/24 dev sbd1")
    in_ns(SINK, "ip addr add 192.168.2.2/24 dev sbs0")
    for cmd in ("sysctl -qw net.ipv6.conf.all.forwarding=1",
                "sysctl -qw net.ipv4.ip_forward=1",  # H.Encaps of IPv4
                "sysctl -qw net.ipv4.conf.all.rp_filter=0",
                "sysctl -qw net.ipv4.conf.sbd0.rp_filter=0",
                "sysctl -qw net.ipv6.conf.all.seg6_enabled=1",
                "sysctl -qw net.ipv6.conf.sbd0.seg6_enabled=1",
                # static neighbours: nothing waits on NDP
                f"ip -6 neigh replace fd00:2::2 lladdr {MAC['sbs0']} dev sbd1 nud permanent",
                f"ip -6 neigh replace fd00:1::2 lladdr {MAC['sbg0']} dev sbd0 nud permanent",
                f"ip neigh replace 192.168.2.2 lladdr {MAC['sbs0']} dev sbd1 nud permanent",
                "ip -6 route add fc00:9::/64 via fd00:2::2 dev sbd1",
                # Generic receive on: without XDP on sbd0 (TC, kernel variants)
                # a veth drops XDP frames sent to it unless GRO gives it NAPI.
                "ethtool -K sbd0 gro on"):
        in_dut(cmd)
    # `ip netns exec` mounts the namespace's own /sys: the devices are there.
    in_ns(DUT, "sh -c 'echo 1 > /sys/class/net/sbd0/threaded'")
    sh([BENCH, "attach", SINK, "sbs0", "sink"])
    in_ns(SINK, "sh -c 'echo 1 > /sys/class/net/sbs0/threaded'")
    pin_napi("sbs0", GEN_CPU)

def gen_session():
    """Runs in the generator's process before exec: its own CPU, nice -20, and
    its own session with an autogroup at nice -20. With autogroups (on here)
    nice only ranks tasks within their session: other sessions' compilers on
    CPU 0 took as much of it as the generator, and the DUT idled meanwhile."""
    os.sched_setaffinity(0, {GEN_CPU})
    os.setpriority(os.PRIO_PROCESS, 0, -20)
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write("-20")
    except OSError:
        pass  # no autogroups: nice alone ranks the generator

def offer(frame_hex, rate, seconds):
    """dict(offered, delivered Mpps; dut, gen, sink: busy fractions of their
    thread over the same measured window). The generator runs at nice -20, not
    SCHED_FIFO: unpaced it never sleeps, and real-time priority would starve
    the kworker that frees its page pools. The sink's NAPI thread (SCHED_FIFO)
    preempts it; the generator takes the rest of CPU 0."""
    dut, sink = napi_pids("sbd0"), napi_pids("sbs0")
    r = subprocess.run([BENCH, "gen", GEN, "sbg0", SINK, "sbs0", frame_hex, str(int(rate)), str(seconds),
                        str(GEN_BURST)] + dut + sink, capture_output=True, text=True,
                       preexec_fn=gen_session, start_new_session=True)
    if r.returncode:
        raise RuntimeError(f"srv6bench gen: {r.stderr.strip()}")
    x = [float(v) for v in r.stdout.split()]
    return dict(offered=x[0] / 1e6, delivered=x[1] / 1e6, gen=x[2],
                dut=sum(x[3:3 + len(dut)]), sink=sum(x[3 + len(dut):]))

def check_delivery(b, v, frame_hex):
    """A variant that delivers nothing is misconfigured, not slow: stop."""
    if offer(frame_hex, 200e3, 0.2)["delivered"] < 0.05:
        raise RuntimeError(f"{b['name']} / {v}: nothing reaches the sink")

# ---- measurement ------------------------------------------------------------
def with_variant(b, v, fn):
    for _ in VARIANTS[v][0](b):
        pass
    pin_napi("sbd0", DUT_CPU)
    try:
        return fn()
    finally:
        VARIANTS[v][1](b)

KEYS = ("offered", "delivered", "dut", "gen", "sink")

def medians(xs):
    return {k: statistics.median(x[k] for x in xs) for k in KEYS}

def measure(b, args, log):
    frame_hex = b["frame"]().hex()
    names = variants(b)
    for c in b.get("dut", ([], []))[0]:
        in_dut(c)
    for c in b["srv6ctl"][0]:
        srv6ctl(c)
    sweep = {v: {} for v in names}  # v -> rate -> [offer()]
    over = {v: [] for v in names}
    try:
        for v in names:
            with_variant(b, v, lambda: check_delivery(b, v, frame_hex))
        # Phase 1: sweep (0 = unpaced, the generator's maximum).
        for r in range(args.rounds):
            for v in names[r % len(names):] + names[:r % len(names)]:
                def run():
                    for rate in args.rates + [0]:
                        sweep[v].setdefault(rate, []).append(offer(frame_hex, rate * 1e6, args.seconds))
                with_variant(b, v, run)
            log(f"  {b['name']}: sweep round {r + 1}/{args.rounds} done")
        med = {v: {rate: medians(xs) for rate, xs in s.items()} for v, s in sweep.items()}
        peak_at = {v: max(m, key=lambda rate: m[rate]["delivered"]) for v, m in med.items()}
        peak = {v: med[v][peak_at[v]]["delivered"] for v in names}
        # Phase 2: 4x each variant's peak. When the generator cannot offer
        # that much, it offers what it can (the table says how much).
        for r in range(args.rounds):
            for v in names[r % len(names):] + names[:r % len(names)]:
                over[v].append(with_variant(b, v, lambda: offer(frame_hex, 4 * peak[v] * 1e6, 2 * args.seconds)))
        log(f"  {b['name']}: overload done")
    finally:
        for c in b["srv6ctl"][1]:
            srv6ctl(c)
        for c in b.get("dut", ([], []))[1]:
            in_dut(c)
    return dict(sweep=med, peak=peak, peak_at=peak_at,
                over={v: dict(medians(xs), spread=spread([x["delivered"] for x in xs])) for v, xs in over.items()})

def spread(xs):
    """Half the range over the median, in %: how noisy the repeats were."""
    m = statistics.median(xs)
    return 100 * (max(xs) - min(xs)) / 2 / m if m else 0

# ---- report -----------------------------------------------------------------
def table(b, res):
    rows = ["                     ---- peak ----  ---------------------------- 4x peak -----------------------------",
            "variant               Mpps  dut_%   offered_Mpps  x_peak  delivered_Mpps  spread_%  dut_%  sink_%  ns/frame"]
    for v in res["over"]:
        o, pk = res["over"][v], res["peak"][v]
        at = res["sweep"][v][res["peak_at"][v]]
        rows.append(f"{LABEL[v]:<20} {pk:>5.2f} {100 * at['dut']:>6.0f} {o['offered']:>14.2f} {o['offered'] / pk:>7.1f}"
                    f" {o['delivered']:>15.2f} {o['spread']:>9.0f} {100 * o['dut']:>6.0f} {100 * o['sink']:>7.0f}"
                    f" {frame_ns(o):>9.0f}")
    p, ov = res["peak"], {v: x["delivered"] for v, x in res["over"].items()}
    ratio = lambda a, c, m: f"{m[a] / m[c]:.2f}" if m.get(c) else "-"
    cost = {v: 1 / frame_ns(x) if frame_ns(x) else 0 for v, x in res["over"].items()}
    rows.append(f"a/c = {ratio('xdp', 'kernel', p)} at peak, {ratio('xdp', 'kernel', ov)} overloaded;"
                f"  a/d = {ratio('xdp', 'ceiling', p)} at peak, {ratio('xdp', 'ceiling', ov)} overloaded;"
                f"  a/a' = {ratio('xdp', 'xdp-fib', p)} at peak")
    rows.append(f"by DUT time per frame (4x peak): a/c = {ratio('xdp', 'kernel', cost)},"
                f" a/d = {ratio('xdp', 'ceiling', cost)}, a/e = {ratio('xdp', 'bare', cost)}")
    return "\n".join(rows)

def frame_ns(o):
    """The DUT's CPU time per delivered frame: its capacity, 1 / this, holds
    even when the generator could not saturate it."""
    return 1e3 * o["dut"] / o["delivered"] if o["delivered"] else 0

def sweep_table(res):
    rates = sorted(res["sweep"]["xdp"], key=lambda r: r or 1e9)
    head = "target_Mpps " + "".join(f"{v:>15}" for v in res["sweep"])
    rows = [head]
    for rate in rates:
        label = f"{rate:g}" if rate else "unpaced"
        rows.append(f"{label:<11} " + "".join(
            "{delivered:>7.2f}/{offered:<4.2f}{dut:>4.0%}".format(**res["sweep"][v][rate]) for v in res["sweep"]))
    return "\n".join(rows)

def slug(name):
    return "".join(c if c.isalnum() else "-" for c in name.lower())

def sink_ns(res):
    """The sink's CPU time per delivered frame, over every overload run: what
    one delivered frame costs the generator's core besides generating it."""
    o = res["over"].values()
    return 1e3 * sum(x["sink"] for x in o) / sum(x["delivered"] for x in o)

SECTIONS = {"tried": "## What was tried", "perf": "## Per-packet program cost",
            "scale": "## Per-packet cost at scale", "load": "## Loading many SIDs",
            "throughput": "## Throughput", "tcp": "## TCP through a router"}
WRITTEN = {"tried"}  # by hand: kept as they are

def write_doc(new):
    """new: section key -> its markdown lines. The sections not measured in
    this run keep their text from the current document."""
    old = {}
    if os.path.exists(DOC):
        for part in ("\n" + open(DOC).read()).split("\n## ")[1:]:
            for k, head in SECTIONS.items():
                if ("## " + part).startswith(head):
                    old[k] = ("## " + part).rstrip("\n")
    s = ["# Benchmarks", "",
         "Every measured section below is regenerated by one command (root, after the",
         "normal build; about 30 minutes): `tools/bench/run.py`.",
         "`--sections perf,scale,load,throughput,tcp` picks sections (the others are kept as",
         "they are), `--only NAME` behaviours of the throughput section. Each section",
         "names its own command too. \"What was tried\" is written by hand.", ""]
    for k in SECTIONS:
        if k in new:
            s += new[k]
        elif k in old:
            s += [old[k], ""]
    open(DOC, "w").write("\n".join(s).rstrip("\n") + "\n")

def throughput_section(results, args, load, plots):
    cmd = " ".join(["tools/bench/run.py"] + [shlex.quote(a) for a in sys.argv[1:]])
    s = ["## Throughput (delivered Mpps, one DUT core)", "",
         "Command (root, after the normal build; about 3 minutes per behaviour; it also",
         "draws the plots below, into docs/img/):", "",
         f"    {cmd}", "",
         "Topology: generator ns --veth-- DUT ns --veth-- sink ns. The generator",
         "(`srv6bench gen`: one BPF_PROG_TEST_RUN with live frames per point, every frame",
         "rewritten from a template, XDP_TX into the DUT's veth, paced inside the BPF",
         f"program in bursts of {GEN_BURST} frames) and the sink's NAPI thread (XDP, counts and",
         "drops) share CPU 0; the DUT's receiving veth runs threaded NAPI pinned to CPU 1,",
         "so the DUT has one core of its own. The NAPI threads run SCHED_FIFO 50, the",
         "generator nice -20 in a session (autogroup) of its own at nice -20, so that",
         "other jobs on this shared machine take little of either core. GRO is on on the",
         "DUT's receiving veth (the TC and kernel variants need it to receive XDP frames at all).",
         "Variants: (a) `srv6ctl attach sbd0 xdp` (+ sbd1 as egress) with `srv6d` running",
         "(the forwarding cache on), (a') the same without `srv6d` (one `bpf_fib_lookup` per",
         "packet), (b) `attach sbd0 tc` (with `srv6d`),",
         "(c) the kernel's seg6/seg6local with the same configuration (where the kernel",
         "has the behaviour; a row without (c) says why, and its a/c is \"-\"), (d) ceiling:",
         "parse Ethernet+IPv6, rewrite MACs, redirect to a fixed egress",
         "(tools/bench/ceiling.bpf.c), (e) bare XDP_REDIRECT touching nothing.",
         "The decapsulating rows (End.DT*, End.DX*) offer what an H.Encaps.Red with one SID",
         "sends: outer IPv6 to the SID, no SRH, next header 4 or 41; the DUT forwards the",
         "inner packet to the sink (IPv6 fd00:2::2, IPv4 192.168.2.2, static neighbours);",
         "the ceiling and the bare redirect forward the outer packet as it is. Every UDP",
         "checksum is valid, IPv4's too: a zero one (no checksum, legal in IPv4) would send",
         "every frame through TC at XDP on a veth ingress (`csum_offload`: a tunnel inside",
         "it may carry a checksum left to offload, bpf/csum.h).",
         f"Each of {args.rounds} rounds visits every variant (rotated order) and sweeps the",
         f"offered load ({', '.join(f'{r:g}' for r in args.rates)} Mpps and unpaced), {args.seconds} s",
         "per point after a 0.2 s warm-up; peak = best median delivered rate. Then each",
         f"variant is offered 4x its peak, {2 * args.seconds} s per point; x_peak = what the",
         "generator really offered over the peak (below 4: it offered all it could).",
         "Medians; spread = half the range of the overload repeats over their median.",
         "dut_% = the DUT's NAPI thread's CPU time over the measured window (the",
         "scheduler's clock, warm-up excluded); sink_% = the same for the sink's NAPI",
         "thread, on the generator's core (the generator takes the rest of it: paced, it",
         "spins until frames are due).",
         "",
         "Reading the tables: dut_% near 100 means the DUT's core set the rate. Below",
         "~90 %, the generator's core did (x_peak below 4: it could not even offer 4x): the sink costs",
         "about as much per frame as a bare redirect on the DUT (it receives from another",
         "core too: the ring slot and the frame's header miss the cache), so CPU 0 cannot",
         "carry both the sink and a generator for a DUT faster than about 1/sink_ns. Such a",
         "variant's figure is a lower bound of the DUT's capacity, and a ratio over it an",
         "upper bound. ns/frame = the DUT's CPU time per delivered frame under overload:",
         "its inverse is the DUT's capacity even where the generator did not saturate it, so",
         "the ratios \"by DUT time per frame\" compare capacities (a NAPI thread that idles",
         "between bursts also pays a few wake-ups, so an unsaturated variant's ns/frame is a",
         "little high). At low paced rates (delivered = offered) dut_% is no measure of",
         "saturation: an idle DUT wakes for every burst, with caches another job has cooled.",
         f"Load average before / after: {load[0]} / {load[1]} (other jobs share the machine).", ""]
    for b, res in results:
        notes = [line for x in (b.get("note"), b.get("no_kernel")) if x for line in textwrap.wrap(x, 84)]
        s += [f"### {b['name']}", ""] + (notes + [""] if notes else [])
        s += ["```", table(b, res), "```", "",
              f"Sink: {sink_ns(res):.0f} ns of CPU 0 per delivered frame (CPU 0 absorbs at most "
              f"~{1e3 / sink_ns(res):.1f} Mpps).", "",
              "Sweep, delivered/offered Mpps and dut_% (medians; the generator falls short of a",
              "high target when its core is full):", "", "```", sweep_table(res), "```", "",
              f"![{b['name']}: delivered vs offered](img/{os.path.basename(plots[b['name']])})", ""]
    return s

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--rates", default="0.5,1,1.5,2,3", help="paced offered loads, Mpps")
    ap.add_argument("--only", action="append", help="behaviour name(s) to run")
    ap.add_argument("--tcp-seconds", type=int, default=5, help="seconds per iperf3 run (section tcp)")
    measured = [k for k in SECTIONS if k not in WRITTEN]
    ap.add_argument("--sections", default=",".join(measured), help="comma-separated: " + ",".join(measured))
    ap.add_argument("--no-doc", action="store_true", help="print only, leave docs/benchmarks.md")
    args = ap.parse_args()
    args.rates = [float(x) for x in args.rates.split(",")]
    if os.geteuid():
        sys.exit("run.py: needs root")
    plot.check()  # before a long run, not after it
    global BENCH, SRV6CTL, SRV6D, PERF
    for p in BUILT.values():
        if not os.access(p, os.X_OK):
            sys.exit(f"run.py: {p} missing: cmake --build build first")
    tmp = tempfile.mkdtemp(prefix="srv6bench.")
    BENCH, SRV6CTL, SRV6D, PERF = (shutil.copy(p, tmp) for p in BUILT.values())
    if subprocess.run(["mountpoint", "-q", "/sys/fs/bpf"]).returncode:
        sh(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"])
    # SIGTERM / SIGHUP unwind like Ctrl-C, so the finally below cleans up
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(143))
    log = lambda m: print(m, file=sys.stderr, flush=True)
    want = args.sections.split(",")
    if set(want) - (set(SECTIONS) - WRITTEN):
        sys.exit(f"run.py: --sections: one of {','.join(set(SECTIONS) - WRITTEN)}")
    new, results = {}, []
    try:
        # the others first: each makes (and removes) a namespace of its own
        if "perf" in want:
            log("per-packet cost ...")
            new["perf"] = sections.per_packet(PERF, ROOT)
            print("\n".join(new["perf"]), flush=True)
        if "scale" in want:
            log("per-packet cost at scale (fills 3 x 10^6 entries) ...")
            new["scale"] = sections.scale(PERF)
            print("\n".join(new["scale"]), flush=True)
        if "load" in want:
            log("loading 10^6 SIDs ...")
            new["load"] = sections.load(SRV6CTL)
            print("\n".join(new["load"]), flush=True)
        if "tcp" in want:
            log("TCP through a router ...")
            new["tcp"], raw = tcp.section(SRV6CTL, SRV6D, min(args.rounds, 3), args.tcp_seconds, log)
            print("\n".join(new["tcp"]), flush=True)
            with open(f"{ROOT}/build/bench-tcp.json", "w") as f:
                json.dump(raw, f, indent=1)
        load = [open("/proc/loadavg").read().split()[0]]
        if "throughput" in want:
            cleanup()  # leftovers of an interrupted run
            topology()
            start_srv6d()
            for b in BEHAVIOURS:
                if args.only and b["name"] not in args.only:
                    continue
                log(f"{b['name']} ...")
                results.append((b, measure(b, args, log)))
                print(f"\n{b['name']}\n{table(b, results[-1][1])}\n\n{sweep_table(results[-1][1])}", flush=True)
    finally:
        stop_srv6d()
        cleanup()
        shutil.rmtree(tmp)
    load.append(open("/proc/loadavg").read().split()[0])
    if results:
        log(f"load average {load[0]} -> {load[1]}")
        # raw medians for later comparisons
        with open(f"{ROOT}/build/bench-throughput.json", "w") as f:
            json.dump({b["name"]: r for b, r in results}, f, indent=1)
        # --no-doc leaves docs/ alone: its plots go to build/
        img = f"{ROOT}/build/bench-img" if args.no_doc else IMG
        os.makedirs(img, exist_ok=True)
        plots = {b["name"]: plot.throughput(f"{img}/throughput-{slug(b['name'])}.png", b["name"], res, LABEL)
                 for b, res in results}
        log("plots: " + " ".join(plots.values()))
        new["throughput"] = throughput_section(results, args, load, plots)
    if not args.no_doc and new:
        write_doc(new)

if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
