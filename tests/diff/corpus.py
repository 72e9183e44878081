# SPDX-License-Identifier: GPL-2.0
"""The packets sent to both datapaths: valid and invalid, per behaviour.

Nothing here says what should come out: the kernel's output is the
expectation. A case only carries what the harness needs to send it (a tag in
the innermost payload, or none when the packet is cut before it) and, where a
documented difference applies, its key (see NORMALISATIONS in harness.py).

Extension headers are assembled by hand (not with scapy's classes) so that
every field, including the wrong ones, is exactly what the case says.
"""
import ipaddress
import logging
import struct
from dataclasses import dataclass

logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import IP, UDP, Ether, IPOption_NOP, IPv6, Raw  # noqa: E402

import topo  # noqa: E402

INNER6_SRC, INNER6_DST = "2001:db8:a::1", "2001:db8:b::1"
INNER4_SRC = "10.0.0.1"
NH_HBH, NH_RT, NH_FRAG, NH_AH, NH_DST, NH_NONE = 0, 43, 44, 51, 60, 59


@dataclass
class Case:
    id: int
    row: str              # behaviour (a SID or a policy)
    cls: str              # case class, a column of the matrix
    desc: str
    frame: bytes = b""
    tagged: bool = True   # the innermost payload carries tag(id)
    doc: str | None = None  # documented difference this case exercises
    cold: bool = False    # forget the cold next hop's neighbour before sending
    mtu: int | None = None  # the tunnel MTU a PMTUD error must carry (doc "pmtud")
    ingress: str = "src"  # the link it is sent into (topo.INGRESS): src, or src-t (the tenant's)


def tag(i):
    return b"case-%05d" % i


TAG_LEN = len(tag(0))


def payload(i, size):
    """UDP payload: the tag first (ICMP errors quote only the head), then filler."""
    return tag(i) + bytes((j * 7) & 0xFF for j in range(max(0, size - TAG_LEN)))


def a16(addr):
    return ipaddress.IPv6Address(addr).packed


def srh(nh, segs, sl, le=None, hdrlen=None, rtype=4, flags=0, stag=0, tlvs=b""):
    """Raw SRH: segs in wire order (segs[0] is the last segment)."""
    le = len(segs) - 1 if le is None else le
    body = b"".join(a16(s) for s in segs) + tlvs
    hdrlen = (len(body)) // 8 if hdrlen is None else hdrlen
    return struct.pack("!BBBBBBH", nh, hdrlen, rtype, sl, le, flags, stag) + body


def opts_hdr(nh, opts=b""):
    """Hop-by-Hop / Destination Options header padded with PadN to 8n bytes."""
    body = opts
    pad = (-(len(body) + 2)) % 8
    if pad == 1:
        body += b"\x00"
    elif pad:
        body += bytes([1, pad - 2]) + bytes(pad - 2)
    return bytes([nh, (len(body) + 2) // 8 - 1]) + body


def frag_hdr(nh, offset=0, more=1, ident=0x1234):
    return struct.pack("!BBHI", nh, 0, (offset << 3) | more, ident)


def ah_hdr(nh):
    # AH with 12 bytes of ICV: payload length = (24 / 4) - 2 = 4.
    return struct.pack("!BBHII", nh, 4, 0, 0x100, 1) + bytes(12)


def udp6(i, size, src=INNER6_SRC, dst=INNER6_DST, hlim=64, tc=0, fl=0):
    return bytes(IPv6(src=src, dst=dst, hlim=hlim, tc=tc, fl=fl) /
                 UDP(sport=4000, dport=5000) / Raw(payload(i, size)))


def udp4(i, size, src=INNER4_SRC, dst="10.10.2.5", ttl=64, tos=0, flags="DF", frag=0,
         options=None, ihl=None, chksum=None, length=None, version=4):
    ip = IP(src=src, dst=dst, ttl=ttl, tos=tos, flags=flags, frag=frag, id=0x4242,
            ihl=ihl, chksum=chksum, len=length, version=version)
    if options:
        ip.options = options
    return bytes(ip / UDP(sport=4000, dport=5000) / Raw(payload(i, size)))


def eth(ingress, ethertype):
    """The Ethernet header of a frame sent into ingress (topo.INGRESS)."""
    return bytes(Ether(src=topo.MAC[ingress], dst=topo.MAC[topo.INGRESS[ingress][1]],
                       type=ethertype))


def eth6(ipv6_and_rest, ingress="src"):
    return eth(ingress, 0x86DD) + ipv6_and_rest


def eth4(ipv4, ingress="src"):
    return eth(ingress, 0x0800) + ipv4


def ip6(dst, nh, rest, src=topo.SRC6, hlim=64, tc=0, fl=0, plen=None, version=6):
    h = IPv6(src=src, dst=dst, nh=nh, hlim=hlim, tc=tc, fl=fl, plen=plen, version=version)
    return bytes(h / Raw(rest))


class Builder:
    def __init__(self):
        self.cases = []

    def add(self, row, cls, desc, make, **kw):
        """make(i) -> frame bytes; i is the case id, used for the tag."""
        c = Case(len(self.cases), row, cls, desc, **kw)
        c.frame = make(c.id)
        self.cases.append(c)
        return c

    def add_cuts(self, row, frame, bounds, desc, **kw):
        """The frame cut at every header boundary (no tag survives): once with
        the IPv6/IPv4 length fields as they were, once fixed to the cut.
        kw: Case fields of every cut (ingress)."""
        for name, off in bounds:
            if off >= len(frame):
                continue
            cut = frame[:off]
            self.add(row, "truncated", f"{desc} cut after {name} ({off} B), length as sent",
                     lambda i, c=cut: c, tagged=False, **kw)
            if off >= 14 + 40 and frame[12:14] == b"\x86\xdd":
                fixed = cut[:18] + struct.pack("!H", off - 14 - 40) + cut[20:]
                self.add(row, "truncated", f"{desc} cut after {name} ({off} B), length fixed",
                         lambda i, c=fixed: c, tagged=False, **kw)
            elif off >= 14 + 20 and frame[12:14] == b"\x08\x00":
                ip = IP(cut[14:])
                ip.len, ip.chksum = off - 14, None
                fixed = cut[:14] + bytes(ip)[:off - 14]
                self.add(row, "truncated", f"{desc} cut after {name} ({off} B), length fixed",
                         lambda i, c=fixed: c, tagged=False, **kw)


def nxt(k):
    """A segment routed via sink0 (main table) and sink1 (table 100)."""
    return f"fc00:2::{k + 1:x}"


def endpoint_cases(b, row, sid):
    def seglist(n, sl):
        """n segments, the SID at position sl (or not at all for the reduced SL = n)."""
        return [sid if k == sl else nxt(k) for k in range(n)]

    def pkt(i, n=3, sl=2, inner="v6", size=64, hlim=64, tc=0, fl=0, pre=(), post=b"",
            src=topo.SRC6, segs=None, plen=None, trail=b"", **srh_kw):
        """Ethernet / IPv6 (DA = SID) / pre headers / SRH / post / inner."""
        if inner == "v6":
            body, last = udp6(i, size), 41
        elif inner == "v4":
            body, last = udp4(i, size), 4
        elif inner == "udp":
            body, last = bytes(UDP(sport=4000, dport=5000) / Raw(payload(i, size))), 17
        else:   # nothing after the SRH
            body, last = b"", NH_NONE
        if post:
            post_nh, post = post
            post, last = opts_hdr(last, post) if post_nh == NH_DST else post, post_nh
        s = srh(last, segs or seglist(n, sl), sl, **srh_kw)
        chain, nh = s + post + body, NH_RT
        for kind in reversed(pre):   # pre: header kinds before the SRH, outermost first
            if kind in (NH_HBH, NH_DST):
                chain, nh = opts_hdr(nh, pre_opts.get(kind, b"")) + chain, kind
            elif kind == NH_FRAG:
                chain, nh = frag_hdr(nh) + chain, kind
            elif kind == NH_AH:
                chain, nh = ah_hdr(nh) + chain, kind
            elif isinstance(kind, tuple):   # (nh, raw header bytes whose first byte is patched)
                chain, nh = bytes([nh]) + kind[1][1:] + chain, kind[0]
        return eth6(ip6(sid, nh, chain, src=src, hlim=hlim, tc=tc, fl=fl, plen=plen)) + trail

    pre_opts = {}
    def add(cls, desc, doc=None, **kw):
        # Without an inner packet there is no tag: such cases go one at a time.
        b.add(row, cls, desc, lambda i: pkt(i, **kw), doc=doc,
              tagged=kw.get("inner", "v6") != "none")

    for n in range(1, 17):
        for sl in range(1, n + 1):
            add("SIDs x SL", f"{n} SIDs SL={sl}" + (" (reduced: SL = LE + 1)" if sl == n else ""),
                n=n, sl=sl)
    add("inner", "IPv4 inner", inner="v4")
    add("inner", "IPv6 inner", inner="v6")
    add("inner", "UDP right after the SRH", inner="udp")
    add("inner", "no next header (59) after the SRH, payload behind it", inner="udp",
        post=(NH_NONE, b""))

    add("ext headers", "Hop-by-Hop (PadN) before the SRH", pre=(NH_HBH,))
    add("ext headers", "Destination Options before the SRH", pre=(NH_DST,))
    add("ext headers", "Hop-by-Hop, Destination Options, SRH", pre=(NH_HBH, NH_DST))
    add("ext headers", "AH before the SRH", pre=(NH_AH,))
    add("ext headers", "Destination Options after the SRH", post=(NH_DST, b""))
    hbh_ra = opts_hdr(NH_RT, b"\x05\x02\x00\x00")          # Router Alert (MLD value 0)
    add("ext headers", "Hop-by-Hop with Router Alert", pre=((NH_HBH, hbh_ra),))
    hbh_unk = opts_hdr(NH_RT, b"\x9e\x02\x00\x00")         # unknown, action 10: discard + ICMP
    add("ext headers", "Hop-by-Hop with an unknown option (act 10)", pre=((NH_HBH, hbh_unk),))
    hbh_skip = opts_hdr(NH_RT, b"\x1e\x02\x00\x00")        # unknown, action 00: skip
    add("ext headers", "Hop-by-Hop with an unknown option (act 00)", pre=((NH_HBH, hbh_skip),))
    add("ext headers", "8 Destination Options headers before the SRH", pre=(NH_DST,) * 8)
    b.add(row, "ext headers", "9 Destination Options headers before the SRH",
          lambda i: pkt(i, pre=(NH_DST,) * 9), doc="too_many_ext")
    rt0 = struct.pack("!BBBBI", 0, 2, 0, 0, 0) + a16("fc00:2::99")   # type 0, SL 0
    add("ext headers", "routing header type 0 with SL=0, then the SRH", pre=((NH_RT, rt0),))
    add("ext headers", "first fragment (offset 0, M=1), then the SRH", pre=(NH_FRAG,))
    add("ext headers", "non-first fragment header, then the SRH",
        pre=((NH_FRAG, frag_hdr(0, offset=8)),))
    add("ext headers", "SRH, then a fragment header", post=(NH_FRAG, frag_hdr(41)))

    padn6 = b"\x04\x04\x00\x00\x00\x00"                # PadN, 4 bytes of data: 6 bytes
    add("SRH TLVs", "PadN TLV (8 bytes of TLVs)", tlvs=padn6 + b"\x04\x00")
    add("SRH TLVs", "unknown TLV type 0x7f, then PadN", tlvs=b"\x7f\x02ab\x04\x02\x00\x00")
    add("SRH TLVs", "Pad1 bytes (the kernel reads every TLV as type+len)", tlvs=bytes(8))
    add("SRH TLVs", "Pad1 then PadN(5)", tlvs=b"\x00\x04\x05" + bytes(5))
    add("SRH TLVs", "16 bytes of TLVs: PadN(14)", tlvs=b"\x04\x0e" + bytes(14))
    add("SRH TLVs", "flags and tag set", flags=0xFF, stag=0xBEEF)
    # The kernel looks for an HMAC TLV (type 5, length 38) in the last 40
    # bytes of an SRH whose H flag (0x08) is set; key 7 is unknown to it.
    hmac = b"\x05\x26\x00\x00" + struct.pack("!I", 7) + bytes(range(32))
    b.add(row, "SRH TLVs", "HMAC TLV, H flag, key id 7 unknown to the kernel",
          lambda i: pkt(i, flags=0x08, tlvs=hmac), doc="hmac")
    b.add(row, "SRH TLVs", "68 TLVs (PadN, 0 data bytes each)",
          lambda i: pkt(i, tlvs=b"\x04\x00" * 68), doc="too_many_ext")
    add("SRH TLVs", "TLV length runs past the SRH", tlvs=b"\x04\x07" + bytes(6))
    add("SRH TLVs", "1 byte left after the last TLV", tlvs=b"\x04\x05" + bytes(5) + b"\x00")

    add("TC / flow label", "traffic class 0xb9 (DSCP 46, ECN CE)", tc=0xB9)
    add("TC / flow label", "ECN ECT(0)", tc=0x02)
    add("TC / flow label", "flow label 0x12345", fl=0x12345)
    add("TC / flow label", "flow label 0xfffff, TC 0xff", fl=0xFFFFF, tc=0xFF)

    for h in (255, 64, 2, 1, 0):
        add("hop limit", f"hop limit {h}", hlim=h)
    add("hop limit", "hop limit 1, IPv4 inner", hlim=1, inner="v4")

    # IPv6 total length (header + payload) = size + 40 + SRH(56) + 48 (inner IPv6 + UDP).
    over = 40 + 8 + 48 + 48
    for total in (over + TAG_LEN, 1280, 1499, 1500, 1501, 1999):
        add("size", f"IPv6 packet of {total} bytes (egress MTU 1500)", size=total - over)
    add("size", "1501 bytes, hop limit 1", size=1501 - over, hlim=1)
    add("size", "Ethernet padding after the packet (kernel trims)", trail=bytes(20))
    add("size", "payload length 8 bytes short of the frame", plen=8 + 48 + 48 + 64 - 8)
    add("size", "payload length longer than the frame", plen=8 + 48 + 48 + 64 + 8)

    add("addresses", "source link-local fe80::1", src="fe80::1")
    add("addresses", "source unspecified ::", src="::")
    add("addresses", "source multicast ff02::1", src="ff02::1")
    add("addresses", "source loopback ::1", src="::1")
    add("addresses", "source is the DUT's own address", src=topo.DUT6)
    for label, nseg in (("a local address of the DUT", topo.TUNSRC),
                        ("another local SID (End)", "fc00:1::e"),
                        ("another local SID (End.T)", "fc00:1::d"),
                        ("without any route", "2001:db8:dead::1"),
                        ("multicast ff0e::1", "ff0e::1"),
                        ("unspecified ::", "::"),
                        ("link-local fe80::2", "fe80::2"),
                        ("loopback ::1", "::1")):
        # End.T looks these up in its own table, which has no route for
        # them; a local or loopback next segment is the FIB helper's blind
        # spot (it cannot tell "local" from "no route").
        if row == "End.T" and label in ("without any route", "a local address of the DUT",
                                        "unspecified ::", "link-local fe80::2", "loopback ::1"):
            doc = "noroute"
        elif label in ("a local address of the DUT", "loopback ::1"):
            doc = "local_next"
        else:
            doc = None
        b.add(row, "addresses", f"next segment {label}",
              lambda i, s=nseg: pkt(i, segs=[nxt(0), s, sid], sl=2), doc=doc)

    add("invalid SRH", "routing type 0", rtype=0)
    add("invalid SRH", "routing type 2", rtype=2)
    add("invalid SRH", "routing type 5", rtype=5)
    add("invalid SRH", "SL = 0", sl=0, segs=[sid, nxt(1), nxt(2)])
    add("invalid SRH", "SL = LE + 2", sl=4, n=3, segs=[nxt(0), nxt(1), nxt(2)])
    add("invalid SRH", "SL = 255", sl=255)
    add("invalid SRH", "last entry > hdrlen/2 - 1", le=3)
    add("invalid SRH", "last entry 255", le=255)
    add("invalid SRH", "hdrlen one unit short of the segments", hdrlen=5)
    add("invalid SRH", "hdrlen one unit longer (trailing bytes = next header)", hdrlen=7)
    add("invalid SRH", "hdrlen 0", hdrlen=0)
    add("invalid SRH", "hdrlen past the end of the packet", hdrlen=60, inner="none")
    b.add(row, "invalid SRH", "no SRH: UDP to the SID",
          lambda i: eth6(ip6(sid, 17, bytes(UDP(sport=4000, dport=5000) / Raw(payload(i, 64))))))
    b.add(row, "invalid SRH", "no SRH: IPv6 in IPv6 to the SID",
          lambda i: eth6(ip6(sid, 41, udp6(i, 64))))
    add("invalid SRH", "SRH with SL=0 then an SRH with SL=2",
        pre=((NH_RT, srh(0, [nxt(5)], 0)),))
    b.add(row, "invalid SRH", "IPv6 version field 4 (ethertype IPv6)",
          lambda i: pkt(i)[:14] + bytes([0x40 | (pkt(i)[14] & 0x0F)]) + pkt(i)[15:])

    if row == "End":
        b.add(row, "cold neighbour", "next segment behind an unresolved neighbour",
              lambda i: pkt(i, segs=[nxt(0), "fc00:99::5", sid], sl=2), cold=True)
        b.add(row, "cold neighbour", "same, hop limit 1",
              lambda i: pkt(i, segs=[nxt(0), "fc00:99::5", sid], sl=2, hlim=1), cold=True)

    full = pkt(0, post=(NH_DST, b""))   # cut points: Eth, IPv6, SRH fixed part, ...
    bounds = [("Ethernet", 14), ("half the IPv6 header", 34), ("IPv6", 54),
              ("SRH fixed part", 62), ("first segment", 78), ("segment list", 110),
              ("Destination Options", 118), ("inner IPv6", 158), ("inner UDP", 166)]
    b.add_cuts(row, full, bounds, "SRH 3 SIDs SL=2 + DOH + IPv6/UDP")


def decap_cases(b, row, sid, fams):
    """End.DX4 / End.DX6 / End.DT6: the outer headers in every shape the
    kernel's decap_and_validate takes or refuses, the inner packet in every
    shape its forwarding (ip_forward / ip6_forward) answers differently."""
    v4only = fams == (4,)
    dst6 = "2001:db8:b::5"
    dst4 = "10.30.0.5"

    def inner(i, fam=None, size=64, **kw):
        """The inner packet and its next header value; sources with a way
        back (src), so ICMP errors the DUT sends about it are compared."""
        fam = fam or fams[0]
        if fam == 6:
            return udp6(i, size, src=topo.SRC6, dst=kw.pop("dst", dst6), **kw), 41
        return udp4(i, size, src=kw.pop("src", topo.SRC4), dst=kw.pop("dst", dst4), **kw), 4

    def pkt(i, fam=None, srh_sl=None, segs=None, pre=(), post=(), size=64, ohlim=64, otc=0,
            ofl=0, plen=None, trail=b"", body=None, **kw):
        """Ethernet / IPv6 (DA = SID) / pre / SRH (when srh_sl is set) / post / inner."""
        rest, nh = body if body is not None else inner(i, fam, size, **kw)
        for kind in reversed(post):
            rest, nh = ext(kind, nh) + rest, kind
        if srh_sl is not None:
            rest, nh = srh(nh, segs or [sid, nxt(0)], srh_sl) + rest, NH_RT
        for kind in reversed(pre):
            if isinstance(kind, tuple):   # (nh, raw header bytes whose first byte is patched)
                rest, nh = bytes([nh]) + kind[1][1:] + rest, kind[0]
            else:
                rest, nh = ext(kind, nh) + rest, kind
        return eth6(ip6(sid, nh, rest, hlim=ohlim, tc=otc, fl=ofl, plen=plen)) + trail

    def ext(kind, nh):
        if kind in (NH_HBH, NH_DST):
            return opts_hdr(nh)
        if kind == NH_FRAG:
            return frag_hdr(nh)
        return ah_hdr(nh)

    def add(cls, desc, doc=None, **kw):
        b.add(row, cls, desc, lambda i: pkt(i, **kw), doc=doc)

    for fam in fams:
        f = f"IPv{fam} inner"
        add("outer headers", f"{f}, no SRH", fam=fam)
        add("outer headers", f"{f}, SRH SL=0 (2 SIDs)", fam=fam, srh_sl=0)
        add("outer headers", f"{f}, SRH SL=0 (5 SIDs)", fam=fam, srh_sl=0,
            segs=[sid] + [nxt(k) for k in range(4)])
        add("outer headers", f"{f}, SRH SL=1", fam=fam, srh_sl=1)
    add("outer headers", "SRH SL=2 of 2 (invalid: SL > LE + 1)", srh_sl=3)
    add("outer headers", "Hop-by-Hop, SRH SL=0", pre=(NH_HBH,), srh_sl=0)
    add("outer headers", "Destination Options, SRH SL=0", pre=(NH_DST,), srh_sl=0)
    add("outer headers", "SRH SL=0, Destination Options", srh_sl=0, post=(NH_DST,))
    add("outer headers", "AH, no SRH", pre=(NH_AH,))
    add("outer headers", "first fragment header, no SRH", pre=(NH_FRAG,))
    add("outer headers", "non-first fragment header",
        pre=((NH_FRAG, frag_hdr(0, offset=8)),))
    rt0 = struct.pack("!BBBBI", 0, 2, 0, 1, 0) + a16("fc00:2::99")   # type 0, SL 1
    add("outer headers", "routing header type 0 with SL=1, no SRH", pre=((NH_RT, rt0),))
    b.add(row, "outer headers", "SRH SL=0, then an SRH with SL=1 (only the first is looked at)",
          lambda i: pkt(i, srh_sl=0, body=(srh(inner(i)[1], [nxt(3), nxt(4)], 1) + inner(i)[0],
                                            NH_RT)))
    add("outer headers", "outer traffic class 0xb9, flow label 0x12345", otc=0xB9, ofl=0x12345)
    add("outer headers", "outer hop limit 1", ohlim=1)
    add("outer headers", "Ethernet padding after the packet", trail=bytes(20))
    add("outer headers", "payload length longer than the frame", plen=300)

    other = 4 if fams == (6,) else 6
    b.add(row, "inner protocol", f"IPv{other} inner (the other family)",
          lambda i: pkt(i, body=inner(i, other)))
    b.add(row, "inner protocol", "UDP right after the IPv6 header",
          lambda i: pkt(i, body=(bytes(UDP(sport=4000, dport=5000) / Raw(payload(i, 64))), 17)))
    b.add(row, "inner protocol", "no next header (59)",
          lambda i: pkt(i, body=(payload(i, 64), NH_NONE)))

    if v4only:
        for t in (255, 64, 2, 1, 0):
            add("inner hop limit", f"TTL {t}", ttl=t)
        add("inner header", "TOS 0xb9", tos=0xB9)
        add("inner header", "IPv4 options (NOP x4)", options=[IPOption_NOP()] * 4)
        add("inner header", "bad header checksum", chksum=0x1234)
        add("inner header", "DF clear", flags=0)
        add("inner header", "non-first fragment", flags=0, frag=100)
        over = 28
        for total in (1280, 1500, 1501):
            for df in ("DF", 0):
                # fragments after the first carry no tag: such a case goes alone
                frags = total > 1500 and not df
                doc = "dx_fragment" if frags and row == "End.DX4" else None
                b.add(row, "size",
                      f"inner packet of {total} bytes (egress MTU 1500), DF {'set' if df else 'clear'}",
                      lambda i, t=total, df=df: pkt(i, size=t - over, flags=df), doc=doc,
                      tagged=not frags)
        add("addresses", "source loopback 127.0.0.1", src="127.0.0.1")
        add("addresses", "source multicast 224.0.0.1", src="224.0.0.1")
        add("addresses", "source 0.0.0.0", src="0.0.0.0")
        add("addresses", "destination a local address of the DUT", dst=topo.DUT4)
        add("addresses", "destination without any route", dst="192.0.2.99")
        add("addresses", "destination multicast 224.1.1.1", dst="224.1.1.1")
    else:
        # End.DT6 into a table other than main: an inner packet the FIB cannot
        # forward at once gets the datapath's own ICMPv6 error, routed back in
        # the table; the kernel's comes from its forwarding, routed by main.
        dt_icmp = "dt_icmp" if row.startswith("End.DT") and topo.decap_table(row) != "main" \
            else None
        for h in (255, 64, 2, 1, 0):
            add("inner hop limit", f"hop limit {h}", hlim=h, doc=dt_icmp if h <= 1 else None)
        add("inner header", "traffic class 0xb9, flow label 0xabcde", tc=0xB9, fl=0xABCDE)
        over = 48
        for total in (1280, 1500, 1501):
            add("size", f"inner packet of {total} bytes (egress MTU 1500)", size=total - over,
                doc=dt_icmp if total > 1500 else None)
        in_table = row == "End.DT6"   # the kernel: Unreachable; the datapath: a drop
        add("addresses", "destination a local address of the DUT", dst=topo.TUNSRC,
            doc="noroute" if in_table else None)
        add("addresses", "destination without any route", dst="2001:db8:dead::1",
            doc="noroute" if in_table else None)
        for label, src in (("unspecified ::", "::"), ("multicast ff02::1", "ff02::1"),
                           ("loopback ::1", "::1"), ("link-local fe80::1", "fe80::1")):
            b.add(row, "addresses", f"source {label}",
                  lambda i, s=src: pkt(i, body=(udp6(i, 64, src=s, dst=dst6), 41)))
        add("addresses", "destination multicast ff0e::1", dst="ff0e::1")
        add("addresses", "destination our End SID (processed next)", dst="fc00:1::e")

    full = pkt(0, srh_sl=0)
    bounds = [("Ethernet", 14), ("IPv6", 54), ("SRH", 94),
              ("inner header", 94 + (20 if v4only else 40))]
    b.add_cuts(row, full, bounds, "SRH SL=0 + inner UDP")


def tunnel_cap(mode, segs):
    """The largest inner packet that fits the 1500-byte egress once
    encapsulated: outer IPv6, and an SRH of the SIDs it carries (.Red: not
    the first)."""
    n = len(segs) - (mode == "encap.red")
    return 1500 - 40 - (8 + 16 * n if n else 0)


def encap_cases(b, row, pfx, mode, segs, ingress="src"):
    """ingress: the link the cases are sent into (topo.INGRESS). The tenant's
    (src-t) gets the same packets, but for the host of its own link as the
    IPv4 source (src's is 10.0.0.1, SRC4) and the DUT's address on it as
    the local source; the IPv6 source is 2001:db8:a::1 on both (no way
    back: no PMTUD error either side), and the tenant's rows add one IPv6
    packet from the host of its link (a way back in its table)."""
    v6 = ":" in pfx
    net = ipaddress.ip_network(pfx)
    dst = str(net.network_address + 5)
    cap = tunnel_cap(mode, segs)
    tenant = ingress != "src"
    host4, own4 = (topo.TSRC4, topo.TDUT4) if tenant else (INNER4_SRC, topo.DUT4)

    def e6(rest):
        return eth6(rest, ingress)

    def pkt6(i, size=64, **kw):
        return e6(udp6(i, size, dst=dst, **kw))

    def pkt4(i, size=64, src=host4, **kw):
        return eth4(udp4(i, size, src=src, dst=dst, **kw), ingress)

    def add(cls, desc, make, **kw):
        b.add(row, cls, desc, make, ingress=ingress, **kw)

    if v6:
        add("basic", "UDP, 64 bytes of payload", lambda i: pkt6(i))
        add("basic", "UDP, smallest payload (the tag)", lambda i: pkt6(i, TAG_LEN))
        add("TC / flow label", "traffic class 0xb9 (DSCP 46, ECN CE)", lambda i: pkt6(i, tc=0xB9))
        add("TC / flow label", "flow label 0x12345", lambda i: pkt6(i, fl=0x12345))
        add("TC / flow label", "flow label 0xfffff, TC 0x03", lambda i: pkt6(i, fl=0xFFFFF, tc=3))
        for h in (255, 64, 2, 1, 0):
            add("hop limit", f"inner hop limit {h}", lambda i, h=h: pkt6(i, hlim=h))
        for total, why in ((cap, "fits once encapsulated"), (cap + 1, "one byte too many"),
                           (1500, "the egress MTU, before encapsulation"),
                           (1501, "over the egress MTU"), (1999, "the ingress MTU")):
            add("size", f"inner packet of {total} bytes ({why})",
                lambda i, t=total: pkt6(i, t - 48))
        if tenant:
            add("size", f"inner packet of {cap + 1} bytes from the tenant's host {topo.TSRC6}",
                lambda i: pkt6(i, cap + 1 - 48, src=topo.TSRC6), doc="pmtud", mtu=cap)
        add("size", "Ethernet padding after the packet", lambda i: pkt6(i) + bytes(20))
        add("inner headers", "inner Hop-by-Hop",
            lambda i: e6(ip6(dst, NH_HBH, opts_hdr(17) + udp6(i, 64)[40:], src=INNER6_SRC)))
        add("inner headers", "inner SRH (SL=1)",
            lambda i: e6(ip6(dst, NH_RT, srh(17, [dst, "2001:db8:a::9"], 1) + udp6(i, 64)[40:],
                               src=INNER6_SRC)))
        add("inner headers", "inner first fragment",
            lambda i: e6(ip6(dst, NH_FRAG, frag_hdr(17) + udp6(i, 64)[40:], src=INNER6_SRC)))
        add("invalid inner", "payload length longer than the frame",
            lambda i: e6(ip6(dst, 17, udp6(i, 64)[40:], src=INNER6_SRC, plen=200)))
        add("invalid inner", "payload length 8 bytes short of the frame",
            lambda i: e6(ip6(dst, 17, udp6(i, 64)[40:], src=INNER6_SRC, plen=64)))
        add("invalid inner", "version field 4 (ethertype IPv6)",
            lambda i: e6(ip6(dst, 17, udp6(i, 64)[40:], src=INNER6_SRC, version=4)))
        add("addresses", "source link-local", lambda i: pkt6(i, src="fe80::1"))
        add("addresses", "source multicast", lambda i: pkt6(i, src="ff02::1"))
        add("addresses", "source unspecified", lambda i: pkt6(i, src="::"))
        add("addresses", "source loopback", lambda i: pkt6(i, src="::1"))
        full = pkt6(0)
        bounds = [("Ethernet", 14), ("half the IPv6 header", 34), ("IPv6", 54), ("UDP", 62)]
    else:
        add("basic", "UDP, 64 bytes of payload", lambda i: pkt4(i))
        add("basic", "UDP, smallest payload (the tag)", lambda i: pkt4(i, TAG_LEN))
        add("basic", "DF clear", lambda i: pkt4(i, flags=0))
        add("TC / flow label", "TOS 0xb9 (DSCP 46, ECN CE)", lambda i: pkt4(i, tos=0xB9))
        for t in (255, 64, 2, 1, 0):
            add("hop limit", f"TTL {t}", lambda i, t=t: pkt4(i, ttl=t))
        for total, why in ((cap, "fits once encapsulated"), (cap + 1, "one byte too many"),
                           (1500, "the egress MTU, before encapsulation"),
                           (1501, "over the egress MTU"), (1999, "the ingress MTU")):
            for df in ("DF", 0):
                # The kernel drops a DF packet that no longer fits; we tell its source.
                pmtud = dict(doc="pmtud", mtu=cap) if df and total > cap else {}
                add("size", f"inner packet of {total} bytes ({why}), DF {'set' if df else 'clear'}",
                    lambda i, t=total, df=df: pkt4(i, t - 28, flags=df), **pmtud)
        add("size", "Ethernet padding after the packet", lambda i: pkt4(i) + bytes(20))
        add("inner headers", "IPv4 options (NOP x4)",
            lambda i: pkt4(i, options=[IPOption_NOP()] * 4))
        add("inner headers", "first fragment (MF)", lambda i: pkt4(i, flags="MF"))
        add("inner headers", "non-first fragment", lambda i: pkt4(i, flags=0, frag=100))
        add("invalid inner", "bad header checksum", lambda i: pkt4(i, chksum=0x1234))
        add("invalid inner", "IHL 4", lambda i: pkt4(i, ihl=4))
        add("invalid inner", "total length longer than the frame", lambda i: pkt4(i, length=200))
        add("invalid inner", "total length 8 bytes short of the frame",
            lambda i: pkt4(i, length=28 + 64 - 8))
        add("invalid inner", "version field 6 (ethertype IPv4)", lambda i: pkt4(i, version=6))
        add("addresses", "source 0.0.0.0", lambda i: pkt4(i, src="0.0.0.0"))
        add("addresses", "source loopback 127.0.0.1", lambda i: pkt4(i, src="127.0.0.1"))
        add("addresses", "source multicast 224.0.0.1", lambda i: pkt4(i, src="224.0.0.1"))
        add("addresses", "source the DUT's own address", lambda i: pkt4(i, src=own4),
            doc="v4_local_source")
        full = pkt4(0)
        bounds = [("Ethernet", 14), ("half the IPv4 header", 24), ("IPv4", 34), ("UDP", 42)]
    b.add_cuts(row, full, bounds, "UDP packet", ingress=ingress)


def main_only_cases(b):
    """Packets into the tenant's ingress for the prefixes that have a policy
    in main only (topo.MAIN_ONLY): never encapsulated (not by main's policy),
    routed by the tenant's table (a plain route via sink1); from the host of
    the tenant's link, so that the errors of that routing go back to it."""
    row = f"main-only policy, table {topo.TENANT_TABLE} ingress"
    ing = "src-t"
    for fam, pfx in topo.MAIN_ONLY.items():
        dst = str(ipaddress.ip_network(pfx).network_address + 5)
        if fam == 6:
            def pkt(i, size=64, **kw):
                return eth6(udp6(i, size, src=topo.TSRC6, dst=dst, **kw), ing)
            ttl = "hop limit"
        else:
            def pkt(i, size=64, **kw):
                return eth4(udp4(i, size, src=topo.TSRC4, dst=dst, **kw), ing)
            ttl = "TTL"
        b.add(row, "routed", f"IPv{fam} UDP, 64 bytes of payload", pkt, ingress=ing)
        b.add(row, "routed", f"IPv{fam} {ttl} 1",
              lambda i, p=pkt, k="hlim" if fam == 6 else "ttl": p(i, **{k: 1}), ingress=ing)
        b.add(row, "routed", f"IPv{fam} packet of 1501 bytes (over the egress MTU)",
              lambda i, p=pkt, f=fam: p(i, 1501 - (48 if f == 6 else 28)), ingress=ing)


def build():
    b = Builder()
    for row, (sid, _, _) in topo.SIDS.items():
        endpoint_cases(b, row, sid)
    for row, (sid, _, _) in topo.DECAP_SIDS.items():
        if row == "End.DX4 on-link nh4":
            # the kernel resolves the inner destination on nh4's link
            for d, dst in (("the next hop itself", topo.S1_NH4), ("behind the next hop", "10.30.0.5")):
                b.add(row, "on-link nh4", f"inner destination {d}",
                      lambda i, dst=dst: eth6(ip6(sid, 4, udp4(i, 64, dst=dst))),
                      doc=None if dst == topo.S1_NH4 else "dx4_onlink")
            continue
        decap_cases(b, row, sid, topo.DECAP_FAMILIES[row])
    for row, (pfx, mode, segs) in topo.policies().items():
        if row.endswith("cold neighbour"):
            dst = str(ipaddress.ip_network(pfx).network_address + 5)
            b.add(row, "cold neighbour", "first SID behind an unresolved neighbour",
                  lambda i, d=dst: eth6(udp6(i, 64, dst=d)), cold=True)
            continue
        encap_cases(b, row, pfx, mode, segs)
    for row, (pfx, mode, segs) in topo.tenant_policies().items():
        encap_cases(b, row, pfx, mode, segs, ingress="src-t")
    main_only_cases(b)
    return b.cases
