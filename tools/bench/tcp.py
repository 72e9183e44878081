"""The TCP section of docs/benchmarks.md: iperf3 through one SRv6 router
(H.Encaps one way, End the other) on our datapath at XDP, at TC, and on the
kernel's seg6/seg6local, with the same configuration, interleaved.

    hostA --veth-- R --veth-- hostB

    hostA 2001:db8:a::1, fd00:a::1     hostB 2001:db8:b::1, fd00:b::1
    R     fd00:a::2, fd00:b::2         SIDs: R fc00:e::e End; hostB fc00:b::d6,
                                       hostA fc00:a::d6 End.DT6 (the kernel's)

hostA -> hostB: R's policy 2001:db8:b::/64 H.Encaps segs fc00:b::d6; hostB
decapsulates. hostB -> hostA (the ACKs, and the reverse flows): hostB's
kernel encapsulates segs fc00:e::e,fc00:a::d6; R's End; hostA decapsulates.
R's work runs on CPU 1 (threaded NAPI and RPS), the hosts' and iperf3's on
CPU 0. CPU per Gbit/s = CPU 1's busy share over the run, over the Gbit/s
delivered.
"""
import json, os, shlex, statistics, subprocess, time

NS = {"a": "stcp-hA", "r": "stcp-R", "b": "stcp-hB"}
R_CPU, HOST_CPU = 1, 0
CORE_MTU = 1600  # room for the encapsulation: this is not about PMTUD
INSTANCE = f"tcp{os.getpid()}"


def sh(argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
    return r.stdout


def nsx(ns, cmd, check=True):
    return sh(["ip", "netns", "exec", NS[ns]] + shlex.split(cmd), check)


def cleanup():
    for ns in NS.values():
        sh(["ip", "netns", "del", ns], check=False)


def topology():
    for ns in NS.values():
        sh(["ip", "netns", "add", ns])
    for k in NS:
        nsx(k, "ip link set lo up")
        nsx(k, "sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 "
               "net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.seg6_enabled=1")
    sh(["ip", "link", "add", "ha", "netns", NS["a"], "mtu", str(CORE_MTU), "type", "veth",
        "peer", "name", "ra", "netns", NS["r"], "mtu", str(CORE_MTU)])
    sh(["ip", "link", "add", "hb", "netns", NS["b"], "mtu", str(CORE_MTU), "type", "veth",
        "peer", "name", "rb", "netns", NS["r"], "mtu", str(CORE_MTU)])
    for k, devs in (("a", ["ha"]), ("b", ["hb"]), ("r", ["ra", "rb"])):
        for d in devs:
            nsx(k, f"ip link set {d} up")
            nsx(k, f"sysctl -qw net.ipv6.conf.{d}.seg6_enabled=1")
            nsx(k, f"ethtool -K {d} gro on")  # NAPI on every veth, for every variant
    nsx("a", "ip -6 addr add fd00:a::1/64 dev ha nodad")
    nsx("a", "ip -6 addr add 2001:db8:a::1/128 dev lo")
    nsx("b", "ip -6 addr add fd00:b::1/64 dev hb nodad")
    nsx("b", "ip -6 addr add 2001:db8:b::1/128 dev lo")
    nsx("r", "ip -6 addr add fd00:a::2/64 dev ra nodad")
    nsx("r", "ip -6 addr add fd00:b::2/64 dev rb nodad")
    # locators only: the hosts' prefixes are reached through SRv6
    nsx("a", "ip -6 route add fc00::/16 via fd00:a::2")
    nsx("b", "ip -6 route add fc00::/16 via fd00:b::2")
    nsx("r", "ip -6 route add fc00:b::/32 via fd00:b::1")
    nsx("r", "ip -6 route add fc00:a::/32 via fd00:a::1")
    # the hosts' SRv6: decapsulate to themselves, encapsulate back through R
    nsx("a", "ip -6 route add fc00:a::d6/128 encap seg6local action End.DT6 table 255 dev ha")
    nsx("b", "ip -6 route add fc00:b::d6/128 encap seg6local action End.DT6 table 255 dev hb")
    nsx("b", "ip sr tunsrc set fd00:b::1")
    nsx("b", "ip -6 route add 2001:db8:a::/64 encap seg6 mode encap segs fc00:e::e,fc00:a::d6 dev hb")
    nsx("a", "ip -6 route add 2001:db8:b::/64 via fd00:a::2")  # into R's policy


def steer():
    """R's receive work on R's core, the hosts' on theirs: threaded NAPI pinned,
    and RPS for what a veth receives outside NAPI (from a sender with TSO on,
    veth_xmit hands skbs to the backlog of the sender's CPU). Attaching or
    detaching XDP makes a veth's NAPI anew, so after every change."""
    for k, devs, cpu in (("r", ("ra", "rb"), R_CPU), ("a", ("ha",), HOST_CPU), ("b", ("hb",), HOST_CPU)):
        for d in devs:
            nsx(k, f"sh -c 'echo 0 > /sys/class/net/{d}/threaded; echo 1 > /sys/class/net/{d}/threaded; "
                   f"echo {1 << cpu:x} > /sys/class/net/{d}/queues/rx-0/rps_cpus'")
            for p in napi_threads(d):
                sh(["taskset", "-pc", str(cpu), str(p)], check=False)


def napi_threads(dev):
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if open(f"/proc/{pid}/comm").read().startswith(f"napi/{dev}-"):
                    pids.append(int(pid))
            except OSError:
                pass
    return pids


def busy_s(cpu):
    """Seconds the CPU has not been idle, from /proc/stat."""
    for line in open("/proc/stat"):
        f = line.split()
        if f[0] == f"cpu{cpu}":
            v = [int(x) for x in f[1:]]
            return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
    raise RuntimeError(f"no cpu{cpu} in /proc/stat")


# ---- variants: who does R's SRv6 ---------------------------------------------

def variants(srv6ctl):
    def ctl(args):
        return sh([srv6ctl, "-n", NS["r"], "--instance", INSTANCE] + shlex.split(args))
    ours = ["policy add 2001:db8:b::/64 encap segs fc00:b::d6 src fd00:b::2",
            "sid add fc00:e::e action End"]
    ours_off = ["policy del 2001:db8:b::/64", "sid del fc00:e::e"]
    kernel = ["ip sr tunsrc set fd00:b::2",
              "ip -6 route add 2001:db8:b::/64 encap seg6 mode encap segs fc00:b::d6 dev rb",
              "ip -6 route add fc00:e::e/128 encap seg6local action End dev ra"]
    kernel_off = ["ip -6 route del 2001:db8:b::/64", "ip -6 route del fc00:e::e/128"]
    return {
        "xdp": (lambda: [ctl("attach ra xdp"), ctl("attach rb xdp")] + [ctl(c) for c in ours],
                lambda: [ctl(c) for c in ours_off] + [ctl("detach ra"), ctl("detach rb")]),
        "tc": (lambda: [ctl("attach ra tc"), ctl("attach rb tc")] + [ctl(c) for c in ours],
               lambda: [ctl(c) for c in ours_off] + [ctl("detach ra"), ctl("detach rb")]),
        "kernel": (lambda: [nsx("r", c) for c in kernel], lambda: [nsx("r", c) for c in kernel_off]),
    }


LABEL = {"xdp": "ours, XDP", "tc": "ours, TC", "kernel": "kernel seg6"}


def iperf(flows, seconds):
    """Gbit/s received hostA -> hostB, and R's NAPI CPU ns over the run."""
    srv = subprocess.Popen(["ip", "netns", "exec", NS["b"], "taskset", "-c", str(HOST_CPU),
                            "iperf3", "-s", "-1", "-B", "2001:db8:b::1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        c0, t0 = busy_s(R_CPU), time.monotonic()
        out = nsx("a", check=False, cmd=f"taskset -c {HOST_CPU} iperf3 -c 2001:db8:b::1 -B 2001:db8:a::1 -J "
                       f"-t {seconds} -P {flows} -O 1")
        c1, t1 = busy_s(R_CPU), time.monotonic()
    finally:
        srv.kill()
        srv.wait()
    doc = json.loads(out)
    if "sum_received" not in doc.get("end", {}):
        raise RuntimeError(f"iperf3 ({flows} flows) failed: {doc.get('error', out[-300:])}")
    gbps = doc["end"]["sum_received"]["bits_per_second"] / 1e9
    return gbps, (c1 - c0) / (t1 - t0)  # the share of R's core over the whole run


def section(srv6ctl, srv6d, rounds, seconds, log):
    cleanup()
    topology()
    daemon = subprocess.Popen([srv6d, "-n", NS["r"], "--instance", INSTANCE], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = {(v, f): [] for v in ("xdp", "tc", "kernel") for f in (1, 4)}
    try:
        time.sleep(0.3)
        vs = variants(srv6ctl)
        order = list(vs)
        for r in range(rounds):
            for v in order[r % len(order):] + order[:r % len(order)]:
                vs[v][0]()
                time.sleep(0.3)
                steer()
                for f in (1, 4):
                    gbps, cpu = iperf(f, seconds)
                    res[(v, f)].append((gbps, cpu))
                    log(f"  tcp round {r + 1} {v} {f} flow(s): {gbps:.2f} Gbit/s, R cpu {cpu:.2f}")
                vs[v][1]()
    finally:
        daemon.terminate()
        daemon.wait()
        sh([srv6ctl, "-n", NS["r"], "instance", "del", INSTANCE], check=False)
        cleanup()
    cmd = "tools/bench/run.py --sections tcp"
    s = ["## TCP through a router (iperf3)", "",
         "Command (root, after the normal build; about 2 minutes):", "", f"    {cmd}", "",
         "hostA --veth-- R --veth-- hostB, core MTU 1600 (hosts send 1500-byte",
         "packets or GSO packets of them). hostA -> hostB: R's H.Encaps (`policy add",
         "2001:db8:b::/64 encap segs fc00:b::d6`), hostB decapsulates (the kernel's",
         "End.DT6). hostB -> hostA (the ACKs): hostB's kernel encapsulates through R's End",
         "`fc00:e::e`, hostA decapsulates. R runs ours at XDP (`attach ra xdp`, `attach rb",
         "xdp`, srv6d running: its egresses take XDP frames, GRO being on on the hosts'",
         "veths), ours at TC only, or the kernel's seg6/seg6local with the same",
         "configuration. GRO is on on every veth; R's two veths run threaded NAPI pinned",
         "to CPU 1 and steer what they receive outside NAPI there too (RPS); the hosts'",
         "veths and iperf3 use CPU 0. So R's work is CPU 1, and nothing else runs there.",
         f"{rounds} rounds, variants interleaved, {seconds} s per run after 1 s omitted;",
         "medians. `R cpu` = CPU 1's busy share over the run (/proc/stat; 1.00 = the core);",
         "`cpu/Gbit` = that over the Gbit/s delivered.", "", "```",
         f"{'variant':<14} {'flows':>5} {'Gbit/s':>8} {'R cpu':>7} {'cpu/Gbit':>9} {'vs kernel':>10}"]
    for f in (1, 4):
        kg = statistics.median(x[0] for x in res[("kernel", f)])
        kc = statistics.median(x[1] for x in res[("kernel", f)]) / kg
        for v in ("xdp", "tc", "kernel"):
            g = statistics.median(x[0] for x in res[(v, f)])
            c = statistics.median(x[1] for x in res[(v, f)])
            s.append(f"{LABEL[v]:<14} {f:>5} {g:>8.2f} {c:>7.2f} {c / g:>9.3f} {g / kg:>9.2f}x")
    s += ["```", ""]
    raw = {f"{v} {f}": r for (v, f), r in res.items()}
    return s, raw
