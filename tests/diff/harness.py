#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Differential test: our datapath (XDP, TC) against the kernel's seg6/seg6local.

Three identical topologies (topo.py) are built: one configured with the
kernel's seg6local/seg6 routes, one with srv6ctl attached at XDP, one at TC
only. Every frame of the corpus (corpus.py) is sent into the three DUTs at the
same time; what leaves each DUT on each of its links (toward src: ICMP
errors; toward sink0 and sink1) is captured in the neighbour namespaces and
paired with its input by the tag in the innermost payload (frames cut before
the payload are sent one at a time). The kernel's output is the expectation.

usage: harness.py --srv6ctl PATH [--srv6d PATH] [--write docs/conformance.md] [--matrix FILE]
                  [--only ID,...] [-v]
Exit 0 when there is no mismatch, 1 otherwise, 2 when the harness itself failed.
"""
import argparse
import ctypes
import datetime
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import sockets  # noqa: E402
import topo    # noqa: E402

VARIANTS = ("xdp", "tc")
BATCH = 48            # tagged cases per burst (the veth XDP ring holds 256 frames)
QUIET = 0.03          # a burst is over when no frame came for this long ...
MIN_WAIT = 0.05       # ... and at least this long after the last send
COLD_WAIT = 0.3       # neighbour resolution takes a round trip through NDP
TAG_RE = re.compile(rb"case-(\d{5})")

# Documented differences (docs/semantics.md, "Differences"). Each is a
# predicate over (kernel output, our output) that accepts ONLY the documented
# shape of the difference, and only for the cases that carry its key.
NORMALISATIONS = {
    "hmac": ("HMAC TLV", "the kernel validates an HMAC TLV (`seg6_require_hmac` 0: if "
             "present) and drops it when the key is unknown; the datapath holds no HMAC "
             "keys and does not validate it (docs/semantics.md)",
             "kernel: nothing; ours: exactly one frame forwarded toward a sink",
             lambda k, o, c: not k and len(o) == 1 and o[0][0] in ("s0", "s1")),
    "too_many_ext": ("More than 8 extension headers before the SRH, or more than 64 SRH TLVs",
                     "BPF loops are bounded: the datapath drops such packets (`too_many_ext`) "
                     "where the kernel processes them (docs/semantics.md)",
                     "kernel: one frame forwarded toward a sink; ours: nothing",
                     lambda k, o, c: len(k) == 1 and k[0][0] in ("s0", "s1") and not o),
    "noroute": ("End.X / End.T with no route in their table",
                "the kernel sends ICMPv6 Destination Unreachable; the datapath drops (it "
                "cannot hand the packet to the kernel with the SID's table attached) "
                "(docs/semantics.md)",
                "kernel: one ICMPv6 Destination Unreachable toward src; ours: nothing",
                lambda k, o, c: len(k) == 1 and k[0][0] == "src" and icmp6_type(k[0][1]) == 1
                and not o),
    "local_next": ("End with a next segment that is a local (non-SID) address or ::1",
                   "bpf_fib_lookup answers 'not forwarded' both for a local address and for "
                   "no route, so the datapath hands the processed packet to the kernel's input "
                   "path (which processes the SRH at a local address, or drops ::1) where "
                   "seg6local would blackhole it or send Unreachable (docs/semantics.md)",
                   "kernel: nothing, or one ICMPv6 Destination Unreachable toward src; ours: "
                   "nothing, or one frame toward a sink",
                   lambda k, o, c: (not k or (len(k) == 1 and k[0][0] == "src"
                                           and icmp6_type(k[0][1]) == 1))
                   and (not o or (len(o) == 1 and o[0][0] in ("s0", "s1")))),
    "v4_local_source": ("IPv4 packet whose source is one of the router's own addresses",
                        "ip_route_input drops it as a martian; the FIB helper cannot tell a "
                        "local address from no route, so the datapath encapsulates it "
                        "(docs/semantics.md)",
                        "kernel: nothing; ours: exactly one frame forwarded toward a sink",
                        lambda k, o, c: not k and len(o) == 1 and o[0][0] in ("s0", "s1")),
    "dx4_onlink": ("End.DX4 whose nh4 is on a connected subnet",
                   "the kernel routes the inner packet by nh4 but resolves the inner "
                   "destination on that link (the route has no gateway), so a packet for a "
                   "host behind nh4 gets Host Unreachable; the datapath sends it to nh4, the "
                   "L3 adjacency RFC 8986 4.6 names (docs/semantics.md)",
                   "kernel: nothing, or one ICMP Destination Unreachable toward src; ours: "
                   "exactly one frame toward sink1",
                   lambda k, o, c: (not k or (len(k) == 1 and k[0][0] == "src"))
                   and len(o) == 1 and o[0][0] == "s1"),
    "dx_fragment": ("End.DX4 (nh4 given) of an IPv4 packet without DF too big for the egress",
                    "the kernel fragments it toward nh4; the datapath cannot fragment, and "
                    "the kernel, handed the packet, would route it by its own destination "
                    "rather than nh4: dropped, counted too_big_no_icmp (docs/semantics.md)",
                    "kernel: two or more fragments toward one sink; ours: nothing",
                    lambda k, o, c: len(k) >= 2 and len({l for l, _ in k}) == 1
                    and k[0][0] in ("s0", "s1") and not o),
    "pmtud": ("H.Encaps of a packet that does not fit once encapsulated: IPv4 with DF, or "
              "IPv6 from a host whose route back the DUT has",
              "the kernel drops the IPv4 packet silently and sends its IPv6 Packet Too Big to "
              "the outer source, itself; the datapath sends ICMPv4 Fragmentation Needed / "
              "ICMPv6 Packet Too Big to the inner source with the tunnel MTU, so PMTUD works "
              "through the head-end (docs/semantics.md)",
              "kernel: nothing; ours: exactly one Fragmentation Needed / Packet Too Big back "
              "out of the link the packet came in by (src, or the tenant's src-t) whose MTU is "
              "the egress MTU minus the encapsulation and that quotes the packet",
              lambda k, o, c: not k and len(o) == 1 and o[0][0] == c.ingress
              and pmtu_error(o[0][1], c.frame) == c.mtu),
    "dt_icmp": ("End.DT6 into a table other than main (table 100) of an inner packet the FIB "
                "cannot forward at once: hop limit 1 or 0, or too big for the egress",
                "the kernel's End.DT6 (table mode, no VRF device) forwards it, and its "
                "ip6_forward sends Time Exceeded / Packet Too Big routed by main, with an "
                "automatic flow label (`net.ipv6.auto_flowlabels`); the datapath sends its own, "
                "routed back in the table, flow label 0, its quote's transport checksum the "
                "fixed point of a checksum completion as in the head-end's PMTUD errors "
                "(docs/semantics.md, \"Tenants\"; table 100 has the way back to src here)",
                "both: exactly one ICMPv6 error toward src whose checksum verifies and that "
                "quotes the inner packet; ours is the kernel's but for the flow label (0), the "
                "quoted UDP/TCP checksum (the fixed point over the quote) and the ICMPv6 "
                "checksum recomputed over that: every other byte equal",
                lambda k, o, c: len(k) == 1 and len(o) == 1 and k[0][0] == o[0][0] == c.ingress
                and dt_icmp_expected(k[0][1], c.frame) == o[0][1]),
}

libc = ctypes.CDLL("libc.so.6", use_errno=True)
CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET, PACKET_AUXDATA = 263, 8
TP_STATUS_CSUMNOTREADY = 8


def in_netns(ns, fn):
    """Run fn in a thread that entered network namespace ns (sockets keep it)."""
    out = {}

    def run():
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            if libc.setns(fd, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), f"setns {ns}")
            os.close(fd)
            out["v"] = fn()
        except BaseException as e:   # re-raised in the caller
            out["e"] = e
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "e" in out:
        raise out["e"]
    return out["v"]


def packet_socket(ns, ifname):
    def mk():
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)   # SO_RCVBUFFORCE: no loss in a burst
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)     # says which checksums are unfinished
        s.bind((ifname, ETH_P_ALL))
        s.setblocking(False)
        return s
    return in_netns(ns, mk)


def icmp6_type(frame):
    """ICMPv6 type of an IPv6 frame (after a Hop-by-Hop header), else None."""
    if frame[12:14] != b"\x86\xdd" or len(frame) < 56:
        return None
    nh, off = frame[20], 54
    if nh == 0 and len(frame) >= off + 2:
        nh, off = frame[off], off + (frame[off + 1] + 1) * 8
    return frame[off] if nh == 58 and len(frame) > off else None


def transport(pkt, off=0):
    """(offset, protocol) of the innermost TCP or UDP header of an IP packet
    (after IPv6 extension headers and IP-in-IP), None for a fragment or other."""
    while len(pkt) >= off + 20:
        if pkt[off] >> 4 == 6 and len(pkt) >= off + 40:
            nh, p = pkt[off + 6], off + 40
            while nh in (0, 43, 60) and len(pkt) >= p + 2:
                nh, p = pkt[p], p + (pkt[p + 1] + 1) * 8
        elif pkt[off] >> 4 == 4:
            if struct.unpack("!H", pkt[off + 6:off + 8])[0] & 0x3FFF:
                return None
            nh, p = pkt[off + 9], off + (pkt[off] & 15) * 4
        else:
            return None
        if nh in (4, 41):
            off = p
            continue
        return (p, nh, off) if nh in (6, 17) and len(pkt) >= p + 8 else None
    return None


def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def finish_checksum(frame):
    """What the device does to a frame whose transport checksum was left to
    offload (CHECKSUM_PARTIAL, which the packet socket reports as
    TP_STATUS_CSUMNOTREADY): the field holds the pseudo-header sum, and the
    device folds in everything from the transport header on. A wrong sum in
    the field stays wrong, so the comparison still sees it."""
    t = transport(frame[14:])
    if not t:
        return frame
    p, proto = t[0] + 14, t[1]
    field = p + (6 if proto == 17 else 16)
    c = ~ones_sum(frame[p:]) & 0xFFFF
    if proto == 17 and c == 0:
        c = 0xFFFF
    return frame[:field] + struct.pack("!H", c) + frame[field + 2:]


def tcp_flow(frames):
    """The sender's side of one TCP connection, comparable across runs.

    Where a TSO send is cut (before the DUT, on its egress) and what GRO
    merges again at the sink depend on timing, so the flow is compared, not
    its frames: the distinct headers (sequence and acknowledgement numbers
    relative to the initial ones, length fields, the IPv4 ID and header
    checksum, and PSH left out), the byte stream the segments carry in
    sequence order, and whether every TCP checksum verified (over the
    innermost IP pseudo-header, once finished where left to offload)."""
    heads, data, bad, isn, rack = set(), {}, 0, None, None
    for link, f in frames:
        if link == "src":
            continue   # the receiver's answers, forwarded back plainly
        t = transport(f[14:])
        if not t or t[1] != 6:
            heads.add((link, f))
            continue
        p, ip = t[0] + 14, t[2] + 14
        seq, ack = struct.unpack("!II", f[p + 4:p + 12])
        flags, thl = f[p + 13], (f[p + 12] >> 4) * 4
        if flags & 0x02 and not flags & 0x10:
            isn = seq
        elif flags & 0x10 and rack is None:
            rack = ack - 1
        h = bytearray(f[:p + thl])
        h[18:20] = b"\0\0"                       # outer payload length
        if f[ip] >> 4 == 6:
            seg = f[p:ip + 40 + struct.unpack("!H", f[ip + 4:ip + 6])[0]]
            pseudo = f[ip + 8:ip + 40] + struct.pack("!IxxxB", len(seg), 6)
            h[ip + 4:ip + 6] = b"\0\0"
        else:
            seg = f[p:ip + struct.unpack("!H", f[ip + 2:ip + 4])[0]]
            pseudo = f[ip + 12:ip + 20] + struct.pack("!xBH", 6, len(seg))
            h[ip + 2:ip + 6] = bytes(4)            # total length, ID
            h[ip + 10:ip + 12] = b"\0\0"          # header checksum
        bad += ones_sum(pseudo + seg) != 0xFFFF
        rseq = (seq - (isn or 0)) & 0xFFFFFFFF
        h[p + 4:p + 12] = struct.pack("!II", rseq, (ack - rack) & 0xFFFFFFFF
                                      if flags & 0x10 and rack is not None else ack)
        h[p + 13] &= ~0x08
        h[p + 16:p + 18] = b"\0\0"
        heads.add((link, bytes(h)))
        if len(seg) > thl:
            data[rseq] = seg[thl:]
    stream, at = b"", 1
    for k in sorted(data):
        if k <= at < k + len(data[k]):
            stream += data[k][at - k:]
            at = k + len(data[k])
    return sorted(heads) + [("stream", stream), ("bad TCP checksums", str(bad).encode())]


def aux_status(ancillary):
    for level, kind, data in ancillary:
        if level == SOL_PACKET and kind == PACKET_AUXDATA:
            return struct.unpack_from("I", data)[0]   # tpacket_auxdata.tp_status
    return 0


def pmtu_error(frame, sent):
    """MTU of the ICMPv4 Fragmentation Needed / ICMPv6 Packet Too Big in
    `frame` if it goes to the source of `sent` (an Ethernet frame) and quotes
    it as it arrived, but for its transport checksum (a fixed point that
    survives offload, bpf/pmtud.h), else None."""
    if sent[12:14] == b"\x08\x00":
        if frame[12:14] != b"\x08\x00" or len(frame) < 14 + 20 + 8 + 28:
            return None
        ihl = (frame[14] & 15) * 4
        icmp = frame[14 + ihl:]
        if frame[23] != 1 or icmp[0] != 3 or icmp[1] != 4 or frame[30:34] != sent[26:30]:
            return None
    else:
        if icmp6_type(frame) != 2 or frame[20] != 58 or frame[38:54] != sent[22:38]:
            return None
        icmp = frame[54:]
        if icmp[1] != 0:
            return None
    quoted, orig = icmp[8:], sent[14:]
    t = transport(orig)
    field = t[0] + (6 if t[1] == 17 else 16) if t else -2
    skip = (field, field + 1)
    n = min(len(quoted), len(orig))
    if n < 28 or any(quoted[j] != orig[j] for j in range(n) if j not in skip):
        return None
    return int.from_bytes(icmp[4:8], "big")


def dt_icmp_expected(frame, sent):
    """The datapath's ICMPv6 error for a packet an End.DT* decapsulated into a
    table other than main, derived from the kernel's (`frame`, an Ethernet
    frame) for the same input (`sent`), or None when `frame` is not such an
    error: an ICMPv6 Packet Too Big / Time Exceeded whose checksum verifies,
    to the inner packet's source, quoting the inner packet. The kernel's
    icmp6_send gives it an automatic flow label (net.ipv6.auto_flowlabels,
    a hash), ours 0: that field is the one masked. The quoted UDP/TCP
    checksum field is not masked but computed: ours writes the fixed point
    of a checksum completion over the quote (bpf/pmtud.h
    quote_fixed_point, docs/semantics.md "PMTUD through the head-end"),
    F = rotr1(~s) with s the sum of the quoted transport header and payload
    but F; the ICMPv6 checksum is then recomputed (the pseudo-header has no
    flow label). Every other byte is the kernel's."""
    if icmp6_type(frame) not in (2, 3) or frame[20] != 58 or len(frame) < 62 + 48:
        return None
    ip = frame[14:]
    plen = int.from_bytes(ip[4:6], "big")
    if len(ip) != 40 + plen:
        return None

    def icmp_sum(msg):
        return ones_sum(ip[8:40] + struct.pack("!II", plen, 58) + msg)
    if icmp_sum(ip[40:]) != 0xFFFF:
        return None
    t = transport(sent[14:])   # (transport offset, protocol, inner IP header offset)
    if not t:
        return None
    inner, quote = sent[14 + t[2]:], bytearray(ip[48:])
    if inner[:1] != b"\x60" or ip[24:40] != inner[8:24] or bytes(quote) != inner[:len(quote)]:
        return None
    q = transport(bytes(quote))
    if not q:
        return None
    field = q[0] + (6 if q[1] == 17 else 16)
    if field + 2 > len(quote):
        return None
    quote[field:field + 2] = b"\0\0"
    x = ~ones_sum(bytes(quote[q[0]:])) & 0xFFFF
    quote[field:field + 2] = struct.pack("!H", (x >> 1 | x << 15) & 0xFFFF)
    msg = bytearray(ip[40:48]) + quote
    msg[2:4] = b"\0\0"
    msg[2:4] = struct.pack("!H", ~icmp_sum(bytes(msg)) & 0xFFFF)
    first = struct.pack("!I", int.from_bytes(ip[0:4], "big") & 0xFFF00000)   # flow label 0
    return frame[:14] + first + ip[4:40] + bytes(msg)


def noise(frame):
    """Frames that are no packet's output: multicast/broadcast, ARP, NDP, MLD."""
    if frame[0] & 1 or frame[12:14] == b"\x08\x06":
        return True
    t = icmp6_type(frame)
    return t is not None and (130 <= t <= 136 or t == 143)


class Capture:
    """Packet sockets of all sides: tx on src's links (topo.INGRESS), rx on
    the four links of each DUT."""

    def __init__(self, sides):
        self.tx = defaultdict(dict)   # ingress link -> side -> socket
        self.rx = {}   # socket -> (side, link)
        self.sent = []   # (side, frame) the src stacks sent on src, while keep_sent
        self.keep_sent = False
        self.finished = 0   # frames whose checksum was left to offload
        for name, side in sides.items():
            for link, (ifname, _) in topo.INGRESS.items():
                s = self.tx[link][name] = packet_socket(side.ns["src"], ifname)
                self.rx[s] = (name, link)
            for role in ("s0", "s1"):
                self.rx[packet_socket(side.ns[role], "eth0")] = (name, role)

    def drain(self, wait, quiet=QUIET):
        """Read every frame until `wait` has passed and the links were quiet."""
        got = []
        start = last = time.monotonic()
        while True:
            ready, _, _ = select.select(list(self.rx), [], [], 0.005)
            for s in ready:
                while True:
                    try:
                        data, anc, _, addr = s.recvmsg(65535, 64)
                    except BlockingIOError:
                        break
                    if noise(data):
                        continue
                    if aux_status(anc) & TP_STATUS_CSUMNOTREADY:
                        data = finish_checksum(data)
                        self.finished += 1
                    side, link = self.rx[s]
                    if addr[2] == PACKET_OUTGOING:
                        if self.keep_sent and link == "src":
                            self.sent.append((side, data))
                        continue
                    got.append((side, link, data))
                    last = time.monotonic()
            now = time.monotonic()
            if now - start >= wait and now - last >= quiet:
                return got

    def send(self, frame, ingress="src"):
        for s in self.tx[ingress].values():
            s.send(frame)


def icmp4_ident_cleared(frame):
    """An ICMPv4 message the DUT sent: its IPv4 id is random per namespace
    (ip_select_ident), so the id and the header checksum over it are
    cleared once the checksum verifies (a wrong one stays)."""
    if frame[12:14] != b"\x08\x00" or len(frame) < 34 or frame[23] != 1:
        return frame
    ihl = (frame[14] & 0x0F) * 4
    if ones_sum(frame[14:14 + ihl]) != 0xFFFF:
        return frame
    return frame[:18] + b"\0\0" + frame[20:24] + b"\0\0" + frame[26:]


def run_cases(cases, sides, cap):
    """-> {case id: {side: sorted [(link, bytes)]}}, and frames nobody claimed."""
    out = {c.id: {n: [] for n in sides} for c in cases}
    strays = []

    def file(frames, owner=None):
        for side, link, data in frames:
            m = TAG_RE.search(data)
            cid = int(m.group(1)) if m else owner
            if cid in out:
                out[cid][side].append((link, icmp4_ident_cleared(data)))
            else:
                strays.append((owner, side, link, data))

    cap.drain(0.1)   # whatever the topology said while starting
    tcps = [c for c in cases if isinstance(c, sockets.TcpCase)]
    udps = [c for c in cases if isinstance(c, sockets.SockCase)
            and not isinstance(c, sockets.TcpCase)]
    frames = [c for c in cases if not isinstance(c, sockets.SockCase)]
    tagged = [c for c in frames if c.tagged and not c.cold]
    for k in range(0, len(tagged), BATCH):
        for c in tagged[k:k + BATCH]:
            cap.send(c.frame, c.ingress)
        file(cap.drain(MIN_WAIT))
    for c in frames:   # one at a time: no tag to pair by, or a neighbour to forget first
        if c.tagged and not c.cold:
            continue
        if c.cold:
            for side in sides.values():
                side.flush_cold()
        cap.send(c.frame, c.ingress)
        file(cap.drain(COLD_WAIT if c.cold else MIN_WAIT), owner=c.id)
    if udps or tcps:
        for side in sides.values():
            sockets.prepare(side)
        cap.drain(0.1)
        cap.keep_sent = True
    for c in udps:   # one case at a time, from the same port on every side
        cap.sent.clear()
        for side in sides.values():
            in_netns(side.ns["src"], lambda: sockets.send(c))
        file(cap.drain(MIN_WAIT), owner=c.id)
        c.frame = sent_by_kernel(cap)
    if tcps:
        for side in sides.values():
            sockets.prepare_tcp(side)
        cap.drain(0.2)
    for c in tcps:
        run_tcp(c, sides, cap, out[c.id])
    for c in cases:
        for n in sides:
            out[c.id][n].sort()
    return out, strays


def sent_by_kernel(cap):
    """A socket case's input, for the report and the PMTUD check: what the
    kernel side's src sent first."""
    return next((d for n, d in cap.sent if n == "kernel"), b"")


def run_tcp(c, sides, cap, out):
    """One connection on each side in turn; out[side] gets its flow."""
    got = {}
    cap.sent.clear()
    for name, side in sides.items():
        listener = in_netns(side.ns["s0"], lambda: sockets.serve(c))
        rx = threading.Thread(target=lambda: got.update({name: sockets.receive(listener)}))
        rx.start()
        try:
            in_netns(side.ns["src"], lambda: sockets.send_tcp(c))
        except OSError as e:
            got[name + " error"] = str(e)
        rx.join()
        listener.close()
    for side, link, data in cap.drain(MIN_WAIT):
        out[side].append((link, data))
    c.frame = sent_by_kernel(cap)
    for name in sides:
        out[name] = tcp_flow(out[name]) + [
            ("delivered", str(got.get(name, -1)).encode()),
            ("error", got.get(name + " error", "").encode())]


def verdict(case, k, o):
    if k == o:
        return "identical"
    if case.doc and NORMALISATIONS[case.doc][3](k, o, case):
        return "documented"
    return "mismatch"


def summary(frame):
    """One line of what a frame is, for the report."""
    from scapy.all import Ether
    try:
        return Ether(frame).summary()
    except Exception:   # a cut frame scapy cannot dissect
        return f"{len(frame)} bytes"


def hexdump(data, limit=None):
    h = data.hex()
    return h if limit is None or len(h) <= 2 * limit else h[:2 * limit] + f"... ({len(data)} B)"


def describe_out(frames, limit=None):
    if not frames:
        return ["dropped (nothing left the DUT)"]
    return [f"on {link}: {summary(d)}\n      {hexdump(d, limit)}" for link, d in frames]


def write_matrix(path, cases, results, strays, meta):
    rows = list(dict.fromkeys(c.row for c in cases))
    cells = defaultdict(Counter)   # (row, cls, variant) -> verdicts
    totals = {v: Counter() for v in VARIANTS}
    for c in cases:
        for v in VARIANTS:
            r = results[c.id][v]
            cells[(c.row, c.cls, v)][r] += 1
            totals[v][r] += 1
    L = []
    L.append("# Conformance with the kernel's seg6 / seg6local\n")
    L.append("GENERATED by `tests/diff/harness.py`: do not edit by hand. Regenerate with\n")
    L.append("    cmake --build build && /usr/bin/python3 tests/diff/harness.py \\")
    L.append("        --srv6ctl build/tools/srv6ctl/srv6ctl --srv6d build/tools/srv6d/srv6d \\")
    L.append("        --write docs/conformance.md\n")
    L.append(f"- Date: {meta['date']}; kernel {meta['kernel']}; {meta['iproute2']}")
    nsock = sum(isinstance(c, sockets.SockCase) for c in cases)
    L.append(f"- Run: `{meta['cmd']}`, {meta['secs']:.0f} s, {len(cases)} cases: "
             f"{len(cases) - nsock} frames from packet sockets "
             f"({sum(c.tagged and not c.cold for c in cases) - nsock} sent in tagged bursts, "
             f"the rest one at a time) and {nsock} sends from UDP and TCP sockets.")
    L.append("""
## How

Three copies of one topology (`tests/diff/topo.py`): src -- DUT -- sink0
(main table, `fc00::/16`) and DUT -- sink1 (table 100, End.X next hops
`fd00:11::2` and `fe80::2`). In the first the DUT runs the kernel's
`seg6local` End, End.X, End.T and `seg6` encap / encap.red routes; in the
others the same SIDs and policies are configured with `srv6ctl`, attached at
XDP (`attach DEV xdp`) or at TC only (`attach DEV tc`). Each frame of the
corpus (`tests/diff/corpus.py`) goes into the three DUTs at once; everything
that leaves a DUT on any of its four links (forwarded packets, ICMP errors
back toward src) is captured with packet sockets in the neighbouring
namespaces, minus NDP/MLD/ARP and multicast, and paired with its input by
the tag (`case-NNNNN`) at the head of the innermost payload; frames cut
before the payload are sent one at a time. A case is **identical** when the
multisets of (link, frame bytes) are equal, Ethernet header included;
**documented** when they differ exactly as one of the normalisations below
says (and the case was built to exercise it); otherwise **mismatch**.

A tenant's head-end: src has a second link into the DUT, src-t
(`fd00:b::1`, `10.1.0.1`) to `d-t`, bound to table 100. The kernel's side
has `pref 1000 iif d-t lookup 100` and `pref 1001 iif d-t unreachable`
(IPv4 and IPv6), the rules `srv6ctl link set d-t table 100` installs on the
others, and the tenant's policies as `seg6` encap routes in table 100
(`policy add PREFIX table 100 ...` on the others): the prefixes of the main
policies of the same shape (H.Encaps / H.Encaps.Red, 1 and 2 SIDs, IPv6 and
IPv4) with SID lists of their own (`fc00:4::1`, `fc00:5::2`), so that a
policy of the wrong table shows in the bytes. seg6_input routes the outer
packet with ip6_route_input from d-t, which rule 1000 would send into table
100 (where `fc00::/16` goes via sink1, for End.T), so the kernel's side also
has `pref 999 to fc00::/16 lookup main`, as the kernel's selftests have for
their locators: the SIDs are the core's, routed in main, which is what the
datapath does itself (it routes the outer packet in main directly and never
hands it to the kernel's input from d-t; our sides have no such rule).
Table 100 also holds d-t's connected subnets (the way back to the tenant's
host), src's subnet `fd00:a::/64` on d-src as main has it (the way back for
the packets End.DT6 decapsulates into table 100, so that the datapath's
ICMP errors about them, routed in the table, are sent and compared:
normalisation `dt_icmp`), and plain routes via sink1 for the prefixes of a
main-only policy (H.Encaps 3 SIDs), which the tenant's packets must not
meet (row *main-only policy, table 100 ingress*). The tenant's rows send
the main rows' packets into d-t, with the tenant's host as the IPv4 source.

The cases of the classes `socket ...` (`tests/diff/sockets.py`) are sent
from sockets in src, not from a packet socket: checksums left to offload
(CHECKSUM_PARTIAL) and `UDP_SEGMENT` sends (GSO), as a local stack makes
them, toward the policies directly, and toward the endpoint SIDs through the
src kernel's own `seg6` encap (the kernel's seg6 as the previous hop). Every
side sends the same datagrams from the same port, with DF on and
`net.ipv6.auto_flowlabels=0`, so their bytes do not depend on the run. The
DUT's links to the sinks segment GSO packets in software (`tso`, `gso`,
`tx-udp-segmentation` off), so the sinks capture what a wire carries whether
a GSO packet was cut before the DUT (a veth cuts it toward XDP) or after. A
frame the packet socket marks as left to offload (`TP_STATUS_CSUMNOTREADY`)
is completed as the device would before the comparison: its checksum field
holds the pseudo-header sum, and the sum over the transport header and
payload is folded in (a wrong sum stays wrong).

The `socket TCP` cases are one short connection each (TCP_MAXSEG 1000,
one write, then close) through H.Encaps to a receiver in sink0, whose
kernel strips the SRH at SL 0 and answers back through the DUT. Where a
TSO send is cut and what GRO merges again at the sink depend on timing, and
initial sequence numbers are random, so a TCP case compares the flow: the
distinct headers toward the sink (sequence and acknowledgement numbers
relative to the initial ones; length fields, IPv4 ID and header checksum,
PSH and the TCP checksum left out), the byte stream in sequence order, the
number of TCP checksums that do not verify, and the bytes the receiver got.

Environment, the same on all three sides: fixed MACs, permanent neighbours
except one next hop (`fd00:10::3`, the *cold neighbour* cases flush it before
sending), ICMP rate limits off in the DUT (`net.ipv6.icmp.ratelimit=0`,
`net.ipv4.icmp_msgs_per_sec`) so every error is sent, `ip sr tunsrc` and
`src` both `fd00:10::1`, egress MTU 1500, ingress (src) MTU 2000.

## Normalisations

Only these differences are accepted, each only in the shape given and only
for the cases built to exercise it:
""")
    L.append("| Key | Difference | Accepted shape | Why |")
    L.append("|---|---|---|---|")
    for key, (what, why, shape, _) in NORMALISATIONS.items():
        L.append(f"| `{key}` | {what} | {shape} | {why} |")
    L.append("""
Other documented differences of docs/semantics.md are not exercised here
because the harness configures around them: the outer source is given
(`src` = tunsrc), the flow label sysctl and the IPv4 outer hop limit keep
their defaults, End.X/End.T next hops share the main table's MTU, and no
policy covers a local address.
""")
    L.append("## Totals\n")
    L.append("| Variant | Cases | Identical | Documented | Mismatch |")
    L.append("|---|---|---|---|---|")
    for v in VARIANTS:
        t = totals[v]
        L.append(f"| kernel vs {v} | {len(cases)} | {t['identical']} | {t['documented']} | "
                 f"{t['mismatch']} |")
    L.append("\n## Matrix\n")
    L.append("Per behaviour and case class: identical / documented / mismatch.\n")
    L.append("| Behaviour | Case class | Cases | kernel vs xdp | kernel vs tc |")
    L.append("|---|---|---|---|---|")
    for row in rows:
        for cls in dict.fromkeys(c.cls for c in cases if c.row == row):
            cx, ct = cells[(row, cls, "xdp")], cells[(row, cls, "tc")]
            n = sum(cx.values())

            def fmt(cnt):
                s = f"{cnt['identical']} / {cnt['documented']} / {cnt['mismatch']}"
                return f"**{s}**" if cnt["mismatch"] else s
            L.append(f"| {row} | {cls} | {n} | {fmt(cx)} | {fmt(ct)} |")
    L.append("\n## Mismatches\n")
    bad = [c for c in cases if "mismatch" in results[c.id].values()]
    if not bad:
        L.append("None.\n")
    for c in bad:
        o = meta["outputs"][c.id]
        L.append(f"### case {c.id}: {c.row} / {c.cls}: {c.desc}\n")
        L.append(f"xdp: {results[c.id]['xdp']}, tc: {results[c.id]['tc']}. "
                 f"Reproduce: `harness.py --srv6ctl ... --only {c.id} -v`\n")
        L.append("```")
        L.append(f"in:     {summary(c.frame)}\n      {hexdump(c.frame, 200)}")
        for n in ("kernel",) + VARIANTS:
            for line in describe_out(o[n], 200):
                L.append(f"{n + ':':7} {line}")
        L.append("```\n")
    if strays:
        L.append("## Frames not paired with any case\n")
        L.append("```")
        for owner, side, link, data in strays[:20]:
            L.append(f"{side} on {link} (while case {owner}): {summary(data)}")
        L.append("```\n")
    with open(path, "w") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--srv6ctl", required=True)
    ap.add_argument("--srv6d", help="run it for our sides: the forwarding cache on")
    ap.add_argument("--write", help="write the conformance document here")
    ap.add_argument("--matrix", help="write the matrix here (same format), e.g. in the build dir")
    ap.add_argument("--only", help="comma-separated case ids (reproduce one case)")
    ap.add_argument("-v", action="store_true", help="print every case's outputs")
    ap.add_argument("--no-sockets", action="store_true",
                    help="only the corpus, not the cases sent from sockets (sockets.py)")
    args = ap.parse_args()
    # A SIGTERM (ctest's timeout) must still remove the namespaces (finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))
    t0 = time.monotonic()
    if os.geteuid():
        print("needs root", file=sys.stderr)
        return 2
    if not os.path.ismount("/sys/fs/bpf"):
        topo.sh("mount", "-t", "bpf", "bpf", "/sys/fs/bpf")
    srv6ctl = os.path.abspath(args.srv6ctl)

    cases = corpus.build() + ([] if args.no_sockets else sockets.build())
    if args.only:
        keep = {int(x) for x in args.only.split(",")}
        cases = [c for c in cases if c.id in keep]
    pid = os.getpid()
    topo.remove_stale()
    sides = {"kernel": topo.Side(f"{topo.NS_PREFIX}{pid}k-", "kernel")}
    for v in VARIANTS:
        sides[v] = topo.Side(f"{topo.NS_PREFIX}{pid}{v[0]}-", v, srv6ctl,
                             args.srv6d and os.path.abspath(args.srv6d))
    try:
        for s in sides.values():
            s.create()
            s.configure()
        cap = Capture(sides)
        outputs, strays = run_cases(cases, sides, cap)
        finished = cap.finished
    except Exception:
        traceback.print_exc()
        return 2
    finally:
        for s in sides.values():
            try:
                s.destroy()
            except Exception:
                traceback.print_exc()

    results = {c.id: {v: verdict(c, outputs[c.id]["kernel"], outputs[c.id][v]) for v in VARIANTS}
               for c in cases}
    nbad = 0
    for c in cases:
        r = results[c.id]
        bad = "mismatch" in r.values()
        nbad += bad
        if bad or args.v:
            print(f"case {c.id} [{c.row} / {c.cls}] {c.desc}: xdp {r['xdp']}, tc {r['tc']}")
            print(f"  in:     {summary(c.frame)}\n          {hexdump(c.frame)}")
            for n in sides:
                for line in describe_out(outputs[c.id][n]):
                    print(f"  {n + ':':7} {line}")

    # The harness must be able to see something: a row where the kernel
    # itself never produced a frame means the topology, not the datapath, is
    # broken (and every comparison in it would be vacuous).
    silent = [r for r in dict.fromkeys(c.row for c in cases)
              if not any(outputs[c.id]["kernel"] for c in cases if c.row == r)]
    secs = time.monotonic() - t0
    totals = {v: Counter(results[c.id][v] for c in cases) for v in VARIANTS}
    for v in VARIANTS:
        print(f"kernel vs {v}: {len(cases)} cases, {totals[v]['identical']} identical, "
              f"{totals[v]['documented']} documented, {totals[v]['mismatch']} mismatch")
    for owner, side, link, data in strays:
        print(f"unpaired frame, {side} on {link} (case {owner}): {summary(data)}\n"
              f"          {hexdump(data)}")
    print(f"{len(strays)} unpaired frames; {secs:.1f} s")
    meta = {"date": datetime.date.today().isoformat(), "kernel": os.uname().release,
            "iproute2": topo.sh("ip", "-V").strip(), "secs": secs, "outputs": outputs,
            "cmd": "harness.py " + " ".join(
                a if not a.startswith("/") else os.path.relpath(a) for a in sys.argv[1:])}
    for path in (args.write, args.matrix):
        if path:
            write_matrix(path, cases, results, strays, meta)
    if silent and not args.only:
        print(f"HARNESS ERROR: the kernel produced no frame at all for {silent}", file=sys.stderr)
        return 2
    # The socket cases are about offload: if no frame was left to offload,
    # or no GSO send came out as several packets, they tested nothing.
    socks = [c for c in cases if isinstance(c, sockets.SockCase)]
    if socks and not args.only and (not finished or not all(
            len(outputs[c.id]["kernel"]) > 1 for c in socks if c.gso)):
        print(f"HARNESS ERROR: socket cases without offload ({finished} frames left to "
              "offload, or a GSO send that left as one packet)", file=sys.stderr)
        return 2
    # ... and a TCP case whose connection failed on the kernel's side too
    # would compare two failures.
    lost = [c.id for c in socks if isinstance(c, sockets.TcpCase)
            and (dict(outputs[c.id]["kernel"]).get("delivered") != str(c.sizes[0]).encode()
                 or len(dict(outputs[c.id]["kernel"]).get("stream", b"")) != c.sizes[0])]
    if lost:
        print(f"HARNESS ERROR: TCP cases {lost} did not deliver their bytes through the "
              "kernel's seg6", file=sys.stderr)
        return 2
    if strays and not args.only:
        print("HARNESS ERROR: frames could not be paired with their case", file=sys.stderr)
        return 2
    return 1 if nbad else 0


if __name__ == "__main__":
    sys.exit(main())
