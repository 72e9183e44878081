# SPDX-License-Identifier: GPL-2.0
"""Topology of one side of the differential test, and its two configurations.

    src ns              DUT ns                     sink0 ns
    eth0 ------------- d-src        d-s0 ---------- eth0   (main table)
    fd00:a::1          fd00:a::2    fd00:10::1      fd00:10::2, fd00:10::3
    10.0.0.1           10.0.0.2                      (::3: no neighbour entry in DUT)
                                    d-s1 ---------- eth0   sink1 ns (table 100,
                                    fd00:11::1      fd00:11::2, fe80::2  End.X next hops)
    eth1 ------------- d-t          (bound to table 100: a tenant's ingress)
    fd00:b::1          fd00:b::2
    10.1.0.1           10.1.0.2

Every side (kernel, xdp, tc) gets the same namespaces, names aside, so what
leaves them can be compared byte for byte. The src link has MTU 2000 so frames
one byte over the egress MTU (1500) reach the DUT.

d-t is a tenant's ingress: bound to table 100 (TENANT_TABLE), the tenant's
head-end policies (tenant_policies()) live there, its connected subnets are
added to the table (as docs/semantics.md says a tenant table needs), and
the encapsulated packets leave by the SIDs in main, as those of d-src do.
"""
import os
import re
import subprocess

MAC = {  # fixed MACs: the frames on the wire must not depend on the run
    "src": "02:00:00:00:00:01", "d-src": "02:00:00:00:01:01",
    "d-s0": "02:00:00:00:01:02", "d-s1": "02:00:00:00:01:03",
    "s0": "02:00:00:00:02:01", "s1": "02:00:00:00:03:01",
    "src-t": "02:00:00:00:00:02", "d-t": "02:00:00:00:01:04",
}
# Ingress links of the src ns: link name (as the capture calls it) ->
# (interface in src, the DUT's end). Cases say which one they are sent into.
INGRESS = {"src": ("eth0", "d-src"), "src-t": ("eth1", "d-t")}
SRC6, DUT6, SRC4, DUT4 = "fd00:a::1", "fd00:a::2", "10.0.0.1", "10.0.0.2"
TUNSRC = "fd00:10::1"            # outer source of the encapsulations (both sides)
S0_NH, S0_COLD, S1_NH, S1_LL = "fd00:10::2", "fd00:10::3", "fd00:11::2", "fe80::2"
COLD_PREFIX = "fc00:99::/32"     # main table, via S0_COLD (neighbour resolved on demand)
SID_SPACE = "fc00::/16"          # every SID, ours and the policies' (main: via sink0)
# The tenant: its ingress d-t bound to TENANT_TABLE, its host on that link.
TENANT_TABLE = "100"
TSRC6, TDUT6, TSRC4, TDUT4 = "fd00:b::1", "fd00:b::2", "10.1.0.1", "10.1.0.2"

# Endpoint SIDs: name -> (SID, kernel seg6local arguments, srv6ctl arguments).
SIDS = {
    "End": ("fc00:1::e", "action End dev d-s0", "action End"),
    "End.X": ("fc00:1::a", f"action End.X nh6 {S1_NH} dev d-s1", f"action End.X nh6 {S1_NH}"),
    "End.X-ll": ("fc00:1::b", f"action End.X nh6 {S1_LL} oif d-s1 dev d-s1",
                 f"action End.X nh6 {S1_LL} oif d-s1"),
    "End.T": ("fc00:1::d", "action End.T table 100 dev d-s1", "action End.T table 100"),
}

# Decapsulating SIDs (the ones the kernel has without a VRF device), same
# form; the inner families each takes. Inner destinations: 2001:db8:b::/64
# and 10.30.0.0/16 via sink0 in main, 2001:db8:b::/64 via sink1 in table 100.
S0_NH4, S1_NH4 = "10.20.0.2", "10.21.0.2"
DX4_NH4 = "10.40.0.1"   # behind S1_NH4: the kernel's End.DX4 then sends to that gateway
DECAP_SIDS = {
    "End.DX6": ("fc00:1::d6", f"action End.DX6 nh6 {S1_NH} dev d-s1", f"action End.DX6 nh6 {S1_NH}"),
    "End.DX6 ::": ("fc00:1::d60", "action End.DX6 nh6 :: dev d-s0", "action End.DX6 nh6 ::"),
    "End.DX4": ("fc00:1::d4", f"action End.DX4 nh4 {DX4_NH4} dev d-s1", f"action End.DX4 nh4 {DX4_NH4}"),
    "End.DX4 on-link nh4": ("fc00:1::d41", f"action End.DX4 nh4 {S1_NH4} dev d-s1",
                            f"action End.DX4 nh4 {S1_NH4}"),
    "End.DX4 0.0.0.0": ("fc00:1::d40", "action End.DX4 nh4 0.0.0.0 dev d-s0",
                        "action End.DX4 nh4 0.0.0.0"),
    "End.DT6": ("fc00:1::d76", "action End.DT6 table 100 dev d-s1", "action End.DT6 table 100"),
}
DECAP_FAMILIES = {"End.DX6": (6,), "End.DX6 ::": (6,), "End.DX4": (4,), "End.DX4 0.0.0.0": (4,),
                  "End.DX4 on-link nh4": (4,), "End.DT6": (6,)}


def decap_table(row):
    """The table a SID of DECAP_SIDS decapsulates into: its `table`, else main."""
    args = DECAP_SIDS[row][2].split()
    t = args[args.index("table") + 1] if "table" in args else "main"
    return "main" if t == "254" else t


def policies():
    """H.Encaps / H.Encaps.Red for IPv6 and IPv4 with 1, 2, 3 and 16 SIDs.

    name -> (prefix, mode, segments); the first SID is routed via sink0."""
    out = {}
    for fam in (6, 4):
        for mi, mode in enumerate(("encap", "encap.red")):
            for n in (1, 2, 3, 16):
                segs = ["fc00:2::1"] + [f"fc00:3::{i:x}" for i in range(2, n + 1)]
                pfx = f"2001:db8:{mi}{n:02d}::/64" if fam == 6 else f"10.{10 + mi}.{n}.0/24"
                name = f"H.Encaps{'.Red' if mi else ''} v{fam} {n} SID{'s' if n > 1 else ''}"
                out[name] = (pfx, mode, segs)
    # First SID behind a next hop whose neighbour the DUT must resolve.
    out["H.Encaps v6 cold neighbour"] = ("2001:db8:99::/64", "encap", ["fc00:99::1", "fc00:3::2"])
    return out


def tenant_policies():
    """The tenant's H.Encaps / H.Encaps.Red (table TENANT_TABLE), IPv6 and
    IPv4, 1 and 2 SIDs: the prefixes of the main policies of the same shape
    (overlapping, as tenants' prefixes do), with SID lists of their own, so
    a policy matched in the wrong table shows in the bytes. The first SID is
    routed in main (via sink0); table 100 would send it via sink1.

    name -> (prefix, mode, segments)."""
    main = policies()
    out = {}
    for name, (pfx, mode, segs) in main.items():
        if len(segs) > 2 or "cold" in name:
            continue
        out[f"{name}, table {TENANT_TABLE}"] = (
            pfx, mode, ["fc00:4::1"] + [f"fc00:5::{i:x}" for i in range(2, len(segs) + 1)])
    return out


# A prefix with a policy in main only (H.Encaps, 3 SIDs) and a plain route
# in the tenant's table: the tenant's packets to it are routed, not
# encapsulated (row "main-only policy, table 100 ingress").
MAIN_ONLY = {f: policies()[f"H.Encaps v{f} 3 SIDs"][0] for f in (6, 4)}


DEVS = ("d-src", "d-s0", "d-s1", "d-t")   # the DUT's links

NS_PREFIX = "srv6diff"   # namespaces: srv6diff<pid><k|x|t>-<src|dut|s0|s1>
NS_RE = re.compile(rf"^{NS_PREFIX}(\d+)[kxt]-(src|dut|s0|s1)$")


def remove_stale():
    """Remove what a killed earlier run (its pid gone) left: namespaces and pins."""
    for ns in os.listdir("/run/netns") if os.path.isdir("/run/netns") else ():
        m = NS_RE.match(ns)
        if not m or os.path.exists(f"/proc/{m.group(1)}"):
            continue
        # its pins go with the namespace: srv6ctl collects those of dead ones
        sh("ip", "netns", "del", ns, check=False)


def sh(*args, check=True):
    r = subprocess.run(args, capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


class Side:
    """The four namespaces of one side: <prefix>src, dut, s0, s1."""

    def __init__(self, prefix, variant, srv6ctl=None, srv6d=None):
        self.variant = variant          # "kernel", "xdp" or "tc"
        self.srv6ctl = srv6ctl
        self.srv6d = srv6d              # keeps the forwarding cache on
        self.daemon = None
        self.ns = {k: f"{prefix}{k}" for k in ("src", "dut", "s0", "s1")}

    def nsx(self, role, *args, check=True):
        return sh("ip", "-n", self.ns[role], *args, check=check)

    def sysctl(self, role, *kv):
        sh("ip", "netns", "exec", self.ns[role], "sysctl", "-qw", *kv)

    def create(self):
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
        for role in self.ns:
            self.nsx(role, "link", "set", "lo", "up")
        self.link("src", "eth0", "d-src", 2000)
        self.link("s0", "eth0", "d-s0", 1500)
        self.link("s1", "eth0", "d-s1", 1500)
        self.link("src", "eth1", "d-t", 2000, mac="src-t")

        self.nsx("src", "addr", "add", f"{SRC6}/64", "dev", "eth0", "nodad")
        self.nsx("src", "addr", "add", f"{SRC4}/24", "dev", "eth0")
        self.nsx("dut", "addr", "add", f"{DUT6}/64", "dev", "d-src", "nodad")
        self.nsx("dut", "addr", "add", f"{DUT4}/24", "dev", "d-src")
        self.nsx("dut", "addr", "add", f"{TUNSRC}/64", "dev", "d-s0", "nodad")
        self.nsx("dut", "addr", "add", "fd00:11::1/64", "dev", "d-s1", "nodad")
        self.nsx("src", "addr", "add", f"{TSRC6}/64", "dev", "eth1", "nodad")
        self.nsx("src", "addr", "add", f"{TSRC4}/24", "dev", "eth1")
        self.nsx("dut", "addr", "add", f"{TDUT6}/64", "dev", "d-t", "nodad")
        self.nsx("dut", "addr", "add", f"{TDUT4}/24", "dev", "d-t")
        for a in (S0_NH, S0_COLD):   # the sinks answer NDP for the next hops
            self.nsx("s0", "addr", "add", f"{a}/64", "dev", "eth0", "nodad")
        for a in (S1_NH, S1_LL):
            self.nsx("s1", "addr", "add", f"{a}/64", "dev", "eth0", "nodad")

        # Forwarding, SRH processing (all AND per interface), no rp_filter;
        # ICMP errors unlimited so every case gets its error, not a token.
        self.sysctl("dut", "net.ipv6.conf.all.forwarding=1", "net.ipv4.ip_forward=1",
                    "net.ipv6.conf.all.seg6_enabled=1", "net.ipv4.conf.all.rp_filter=0",
                    "net.ipv4.conf.default.rp_filter=0", "net.ipv6.icmp.ratelimit=0",
                    "net.ipv4.icmp_ratelimit=0", "net.ipv4.icmp_msgs_per_sec=1000000",
                    "net.ipv4.icmp_msgs_burst=1000000")
        for dev in DEVS:
            self.sysctl("dut", f"net.ipv6.conf.{dev}.seg6_enabled=1",
                        f"net.ipv4.conf.{dev}.rp_filter=0")

        # Permanent neighbours for every next hop but S0_COLD.
        for addr, dev, mac in ((SRC6, "d-src", MAC["src"]), (SRC4, "d-src", MAC["src"]),
                               (S0_NH, "d-s0", MAC["s0"]), (S1_NH, "d-s1", MAC["s1"]),
                               (S1_LL, "d-s1", MAC["s1"]), (TSRC6, "d-t", MAC["src-t"]),
                               (TSRC4, "d-t", MAC["src-t"])):
            self.nsx("dut", "neigh", "replace", addr, "lladdr", mac, "dev", dev,
                     "nud", "permanent")
        self.nsx("dut", "-6", "route", "add", "fc00::/16", "via", S0_NH, "dev", "d-s0")
        self.nsx("dut", "-6", "route", "add", COLD_PREFIX, "via", S0_COLD, "dev", "d-s0")
        self.nsx("dut", "-6", "route", "add", "fc00::/16", "via", S1_NH, "dev", "d-s1",
                 "table", "100")
        # what the decapsulating SIDs route (DECAP_SIDS)
        self.nsx("dut", "addr", "add", "10.20.0.1/24", "dev", "d-s0")
        self.nsx("dut", "addr", "add", "10.21.0.1/24", "dev", "d-s1")
        self.nsx("s0", "addr", "add", f"{S0_NH4}/24", "dev", "eth0")
        self.nsx("s1", "addr", "add", f"{S1_NH4}/24", "dev", "eth0")
        for addr, dev, mac in ((S0_NH4, "d-s0", MAC["s0"]), (S1_NH4, "d-s1", MAC["s1"])):
            self.nsx("dut", "neigh", "replace", addr, "lladdr", mac, "dev", dev, "nud", "permanent")
        self.nsx("dut", "-6", "route", "add", "2001:db8:b::/64", "via", S0_NH, "dev", "d-s0")
        self.nsx("dut", "-6", "route", "add", "2001:db8:b::/64", "via", S1_NH, "dev", "d-s1",
                 "table", "100")
        self.nsx("dut", "-4", "route", "add", "10.30.0.0/16", "via", S0_NH4, "dev", "d-s0")
        self.nsx("dut", "-4", "route", "add", "10.40.0.0/24", "via", S1_NH4, "dev", "d-s1")
        # The tenant's table: its connected subnets (the kernel puts them in
        # main only), and plain routes for the prefixes that have a policy in
        # main only (MAIN_ONLY), via sink1.
        t = TENANT_TABLE
        self.nsx("dut", "-6", "route", "add", "fd00:b::/64", "dev", "d-t", "table", t)
        self.nsx("dut", "-4", "route", "add", "10.1.0.0/24", "dev", "d-t", "table", t)
        # ... and the way back to the source of the packets End.DT6 (table
        # 100) decapsulates, src's subnet, as main has it (connected, d-src):
        # the datapath routes its ICMP error for such a packet in the table
        # (docs/semantics.md, "Tenants"), the kernel its own in main, so both
        # send one (normalisation "dt_icmp"). IPv6 only: the kernel's End.DT4
        # needs a VRF device, so no IPv4 packet is decapsulated into table 100.
        self.nsx("dut", "-6", "route", "add", "fd00:a::/64", "dev", "d-src", "table", t)
        self.nsx("dut", "-6", "route", "add", MAIN_ONLY[6], "via", S1_NH, "dev", "d-s1",
                 "table", t)
        self.nsx("dut", "-4", "route", "add", MAIN_ONLY[4], "via", S1_NH4, "dev", "d-s1",
                 "table", t)

    def link(self, ra, ifa, ifb, mtu, mac=None):
        """veth between ns ra (ifa, the outer end, MAC[mac or ra]) and the DUT (ifb)."""
        sh("ip", "link", "add", ifa, "netns", self.ns[ra], "address", MAC[mac or ra],
           "mtu", str(mtu), "type", "veth", "peer", "name", ifb, "netns", self.ns["dut"],
           "address", MAC[ifb], "mtu", str(mtu))
        self.nsx(ra, "link", "set", ifa, "up")
        self.nsx("dut", "link", "set", ifb, "up")
        # GRO on the outer end: a veth drops XDP-redirected frames without it.
        sh("ip", "netns", "exec", self.ns[ra], "ethtool", "-K", ifa, "gro", "on")
        # The DUT's end segments GSO packets in software, as a device without
        # TSO would: the sinks see the packets a wire carries, whether a GSO
        # packet was cut before the DUT (a veth does so toward XDP) or after.
        sh("ip", "netns", "exec", self.ns["dut"], "ethtool", "-K", ifb, "tso", "off", "gso",
           "off", "tx-udp-segmentation", "off")

    def configure(self):
        if self.variant == "kernel":
            self.configure_kernel()
        else:
            self.configure_ours()

    def configure_kernel(self):
        for sid, kargs, _ in (*SIDS.values(), *DECAP_SIDS.values()):
            self.nsx("dut", "-6", "route", "add", f"{sid}/128", "encap", "seg6local",
                     *kargs.split())
        self.nsx("dut", "sr", "tunsrc", "set", TUNSRC)
        for pfx, mode, segs in policies().values():
            fam = "-6" if ":" in pfx else "-4"
            self.nsx("dut", fam, "route", "add", pfx, "encap", "seg6", "mode", mode,
                     "segs", ",".join(segs), "dev", "d-s0")
        # The tenant: d-t bound to its table by the rules srv6ctl's link set
        # installs on our sides (lookup, then unreachable: never main).
        t = TENANT_TABLE
        for fam in ("-4", "-6"):
            self.nsx("dut", fam, "rule", "add", "pref", "1000", "iif", "d-t", "lookup", t)
            self.nsx("dut", fam, "rule", "add", "pref", "1001", "iif", "d-t", "unreachable")
        # seg6_input routes the encapsulated packet with ip6_route_input, its
        # input device still d-t: rule 1000 would route it in table 100 (whose
        # fc00::/16 goes via sink1, for End.T), and table 100 cannot be left
        # without that route, nor fall through to main past rule 1001. So the
        # SID space stays main's, as in the kernel's selftests for their
        # locators: the core routes the outer packet in main whatever its
        # ingress, which is what our datapath does itself (BPF_FIB_LOOKUP_TBID
        # main, never the kernel's input from d-t), so our sides need no such
        # rule. (No packet the tenant's rows send into d-t is itself for
        # fc00::/16: only the outer packets the head-end makes are. A tenant's
        # packet to our SIDs, which this rule would hand to the kernel's
        # seg6local, is not a case here: docs/semantics.md, "Differences".)
        self.nsx("dut", "-6", "rule", "add", "pref", "999", "to", SID_SPACE, "lookup", "main")
        for pfx, mode, segs in tenant_policies().values():
            fam = "-6" if ":" in pfx else "-4"
            self.nsx("dut", fam, "route", "add", pfx, "encap", "seg6", "mode", mode,
                     "segs", ",".join(segs), "dev", "d-s0", "table", t)

    def ctl(self, *args):
        return sh(self.srv6ctl, "-n", self.ns["dut"], *args)

    def configure_ours(self):
        for dev in DEVS:
            self.ctl("attach", dev, self.variant)
        for sid, _, oargs in (*SIDS.values(), *DECAP_SIDS.values()):
            self.ctl("sid", "add", sid, *oargs.split())
        # the outer source as the kernel's: tunsrc, not a per-policy src
        self.ctl("tunsrc", "set", TUNSRC)
        for pfx, mode, segs in policies().values():
            self.ctl("policy", "add", pfx, mode, "segs", ",".join(segs))
        # rules pref 1000 iif d-t lookup 100, pref 1001 iif d-t unreachable
        self.ctl("link", "set", "d-t", "table", TENANT_TABLE)
        for pfx, mode, segs in tenant_policies().values():
            self.ctl("policy", "add", pfx, "table", TENANT_TABLE, mode, "segs", ",".join(segs))
        if self.srv6d:
            self.daemon = subprocess.Popen([self.srv6d, "-n", self.ns["dut"]],
                                           stdout=subprocess.PIPE, text=True)
            if "watching" not in self.daemon.stdout.readline():
                raise RuntimeError(f"srv6d did not start in {self.ns['dut']}")

    def flush_cold(self):
        """Forget the resolved neighbour of S0_COLD (cold-neighbour cases)."""
        self.nsx("dut", "neigh", "flush", "to", S0_COLD, "dev", "d-s0", check=False)

    def destroy(self):
        if self.daemon:
            self.daemon.terminate()
            self.daemon.wait(timeout=10)
        if self.srv6ctl and self.variant != "kernel":
            for dev in DEVS:
                sh(self.srv6ctl, "-n", self.ns["dut"], "detach", dev, check=False)
            sh(self.srv6ctl, "-n", self.ns["dut"], "instance", "del", "--all", check=False)
        for ns in self.ns.values():
            sh("ip", "netns", "del", ns, check=False)
