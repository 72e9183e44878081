# SPDX-License-Identifier: GPL-2.0
"""Cases sent from sockets in the src namespace, not from a packet socket.

A local stack leaves its checksums to offload (CHECKSUM_PARTIAL) and hands
UDP_SEGMENT and TCP sends to GSO, and a veth passes both states on: these are the
packets that packet sockets cannot make (issue 8). Each side's src sends the
same datagrams from the same port, with the flow labels a stack picks turned
off (`auto_flowlabels` 0) and DF on, so their bytes do not depend on the run:
what the DUTs make of them is compared byte for byte, as for the corpus.

Two previous hops:
- the src stack itself, toward the DUT's H.Encaps / H.Encaps.Red policies;
- the src kernel's seg6 encap (`encap seg6 mode encap segs SID,...`), toward
  the DUT's End, End.X and End.T: the kernel's seg6 before our End, with its
  offload state (csum_start moved by the encapsulation, SKB_GSO_IPXIP6).

Datagram payloads carry the tag at the head of every GSO segment, so each
segment pairs with its case wherever it was cut.
"""
import ipaddress
import socket
from dataclasses import dataclass

import corpus
import topo

FIRST_ID = 50000          # socket case ids, after the corpus's
SPORT, DPORT = 4000, 5000
UDP_SEGMENT = 103         # linux/udp.h
IP_MTU_DISCOVER, IP_PMTUDISC_DO = 10, 2
IPV6_DONTFRAG = 62
# Prefixes the src kernel encapsulates toward each endpoint SID (then the
# last segment, routed via sink0 in the main table and via sink1 in 100).
SRC_ENCAP = {"End": ("2001:db8:e0::/64", "10.20.0.0/24"),
             "End.X": ("2001:db8:e1::/64", "10.20.1.0/24"),
             "End.X-ll": ("2001:db8:e2::/64", "10.20.2.0/24"),
             "End.T": ("2001:db8:e3::/64", "10.20.3.0/24")}
LAST_SEG = "fc00:3::2"
# Policies exercised (the rest of topo.policies() differ only in their SID count).
POLICIES = [f"H.Encaps{r} v{f} {n}" for r in ("", ".Red") for f in (6, 4)
            for n in ("1 SID", "3 SIDs", "16 SIDs")]


@dataclass
class SockCase(corpus.Case):
    fam: int = 6
    dst: str = ""
    sizes: tuple = ()       # UDP payload sizes, one send each
    gso: int | None = None  # UDP_SEGMENT size (the payload of each segment)


def sock(case, kind):
    """A socket of the case's family, and its wildcard address."""
    if case.fam == 6:
        return socket.socket(socket.AF_INET6, kind), "::"
    return socket.socket(socket.AF_INET, kind), "0.0.0.0"


def payload(i, size, seg):
    """The tag at the head of every `seg`-byte chunk (every GSO segment)."""
    out = b""
    while len(out) < size:
        out += corpus.payload(i, min(seg, size - len(out)))
    return out


def build():
    cases = []
    hosts = {}   # a fresh destination per case: PMTU learnt by one case stays there

    def add(row, cls, desc, net, **kw):
        n = hosts[net] = hosts.get(net, 0x100) + 1
        net = ipaddress.ip_network(net)
        dst = str(net.network_address + (n if net.version == 6 else n - 0x100 + 100))
        c = SockCase(FIRST_ID + len(cases), row, cls, desc, fam=net.version, dst=dst, **kw)
        cases.append(c)

    pols = topo.policies()
    for row in POLICIES:
        pfx, mode, segs = pols[row]
        cap = corpus.tunnel_cap(mode, segs)
        most = cap - (40 if ":" in pfx else 20) - 8   # the largest UDP payload that fits
        add(row, "socket UDP", "one datagram, checksum left to offload", pfx, sizes=(100,))
        add(row, "socket UDP", "three datagrams of 10, 600 and the largest that fits", pfx,
            sizes=(corpus.TAG_LEN, 600, most))
        add(row, "socket UDP GSO", "UDP_SEGMENT 1000, 4 segments", pfx, sizes=(4000,), gso=1000)
        add(row, "socket UDP GSO", "UDP_SEGMENT 1000, 3 segments and a short last one", pfx,
            sizes=(3100,), gso=1000)
        add(row, "socket UDP GSO", "UDP_SEGMENT of the largest segment that fits, 3 segments",
            pfx, sizes=(3 * most,), gso=most)
        add(row, "socket UDP, too big", "one byte over the tunnel MTU, DF", pfx,
            sizes=(most + 1,), doc="pmtud", mtu=cap)
    for row, (p6, p4) in SRC_ENCAP.items():
        for pfx in (p6, p4):
            v = 6 if ":" in pfx else 4
            add(row, "socket UDP, seg6 before", f"IPv{v} datagram the src kernel encapsulated",
                pfx, sizes=(100,))
            add(row, "socket UDP, seg6 before", f"IPv{v} UDP_SEGMENT 1000, 4 segments", pfx,
                sizes=(4000,), gso=1000)
    return cases + build_tcp(FIRST_ID + len(cases))


def prepare(side):
    """The src stack of a side: routes via the DUT, deterministic headers, and
    the seg6 encap routes in front of the endpoint SIDs."""
    side.sysctl("src", "net.ipv6.auto_flowlabels=0")
    side.nsx("src", "-6", "route", "add", "default", "via", topo.DUT6, "dev", "eth0")
    side.nsx("src", "-4", "route", "add", "default", "via", topo.DUT4, "dev", "eth0")
    side.nsx("src", "sr", "tunsrc", "set", topo.SRC6)
    for row, pfxs in SRC_ENCAP.items():
        sid = topo.SIDS[row][0]
        for pfx in pfxs:
            side.nsx("src", "-6" if ":" in pfx else "-4", "route", "add", pfx, "encap", "seg6",
                     "mode", "encap", "segs", f"{sid},{LAST_SEG}", "dev", "eth0")


def send(case):
    """Send the case's datagrams from a fresh socket (call in the src netns)."""
    s, anyaddr = sock(case, socket.SOCK_DGRAM)
    with s:
        s.bind((anyaddr, SPORT))
        if case.fam == 4:
            s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)
        if case.gso:
            s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, case.gso)
        for size in case.sizes:
            s.sendto(payload(case.id, size, case.gso or size), (case.dst, DPORT))


# TCP: one short connection per case through H.Encaps (1 SID) to a receiver
# in sink0, whose kernel decapsulates (SRH with SL 0) and answers straight
# back through the DUT. The sender's segments toward the sink are what the
# head-end made of a TSO send (the sides differ in where it was cut: before
# the DUT at XDP, on its egress otherwise), so they are compared per flow:
# sequence and acknowledgement numbers relative to each side's initial ones
# (random per connection), the checksum verified and then zeroed. The
# receiver's answers (plain forwarding back) are not compared; the bytes it
# received are.
TCP_POLICIES = ("H.Encaps v6 1 SID", "H.Encaps v4 1 SID")
TCP_HOST = {6: "2001:db8:1::200", 4: "10.10.1.200"}   # on sink0, inside those prefixes
TCP_SPORT, TCP_DPORT, TCP_MSS = 4100, 5100, 1000
TCP_MAXSEG = 2


@dataclass
class TcpCase(SockCase):
    pass


def build_tcp(first_id):
    cases = []
    pols = topo.policies()
    for row in TCP_POLICIES:
        fam = 6 if ":" in pols[row][0] else 4
        for size, desc in ((8 * TCP_MSS, "8 full segments in one write (TSO)"),
                           (5 * TCP_MSS + 123, "5 full segments and a short one")):
            cases.append(TcpCase(first_id + len(cases), row, "socket TCP",
                                 f"connect, send {size} bytes: {desc}, close",
                                 fam=fam, dst=TCP_HOST[fam], sizes=(size,)))
    return cases


def prepare_tcp(side):
    """sink0 terminates the TCP cases: the SID and the hosts are its own, its
    kernel strips the SRH at SL 0, and it answers via the DUT."""
    for role in ("src", "s0"):
        side.sysctl(role, "net.ipv4.tcp_timestamps=0")   # no clock in the headers
    side.sysctl("s0", "net.ipv6.conf.all.seg6_enabled=1", "net.ipv6.conf.eth0.seg6_enabled=1")
    sid = topo.policies()[TCP_POLICIES[0]][2][0]
    side.nsx("s0", "addr", "add", f"{sid}/128", "dev", "lo")
    for fam, host in TCP_HOST.items():
        side.nsx("s0", "addr", "add", f"{host}/{128 if fam == 6 else 32}", "dev", "lo")
    side.nsx("s0", "-6", "route", "add", "default", "via", topo.TUNSRC, "dev", "eth0")
    side.nsx("s0", "-4", "route", "add", "default", "via", "inet6", topo.TUNSRC, "dev", "eth0")


def serve(case):
    """A listening socket for the case (call in sink0's netns)."""
    s, _ = sock(case, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((case.dst, TCP_DPORT))
    s.listen(1)
    s.settimeout(5)
    return s


def receive(listener):
    """Bytes received on the one connection, until the sender's FIN."""
    try:
        conn, _ = listener.accept()
    except OSError:
        return -1
    n = 0
    with conn:
        conn.settimeout(5)
        try:
            while (chunk := conn.recv(65536)):
                n += len(chunk)
        except OSError:
            return -1
    return n


def send_tcp(case):
    """Connect, send the bytes in one write, close (call in src's netns)."""
    s, anyaddr = sock(case, socket.SOCK_STREAM)
    with s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_TCP, TCP_MAXSEG, TCP_MSS)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # a port per case: the last one's connection waits in TIME_WAIT
        s.bind((anyaddr, TCP_SPORT + case.id - FIRST_ID))
        s.settimeout(5)
        s.connect((case.dst, TCP_DPORT))
        s.sendall(payload(case.id, case.sizes[0], TCP_MSS))
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
