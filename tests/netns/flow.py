#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Counted flows with known content, for the namespace tests (traffic.sh).

    flow.py udp-recv ADDR PORT COUNT MAXLEN READY DONE
    flow.py udp-send ADDR PORT COUNT MAXLEN [--burst B --gap-ms G] [--at K CMD...]
    flow.py tcp-recv ADDR PORT BYTES READY TIMEOUT
    flow.py tcp-send ADDR PORT BYTES TIMEOUT
    flow.py probe ADDR PORT SIZE COUNT df|nodf

Each prints one JSON object and exits 0 only if everything arrived intact.

UDP: datagram SEQ (0 <= SEQ < COUNT) has a length and a content fixed by SEQ
alone, lengths between 12 and MAXLEN (the largest payload that fits the
hosts' MTU), so the receiver checks every byte without being told. udp-recv
binds ADDR:PORT, creates the file READY once it can receive, and stops when it
has all COUNT datagrams, or once the file DONE exists (the sender has
finished) and nothing came for a second; it reports how many distinct
datagrams arrived intact, how many were wrong (length or content), duplicates
and the first missing sequence numbers. udp-send paces itself (B datagrams,
then G ms) so that a loss is the path's, never a queue overflowing at the
sender. With --at K, CMD runs (and is waited for) right before datagram K:
the change it makes happens while the flow runs, at a point fixed by the
count, not by a clock.

TCP: the byte at stream offset I is fixed by I alone (a pseudo-random block
of a prime length, repeated), so reordered, lost or corrupted data cannot
pass. tcp-recv accepts one connection, reads to the end of the stream,
checks every byte, and answers the sender with the count it got intact;
tcp-send writes BYTES, closes its side and waits for that answer. A black
hole fails within TIMEOUT seconds (TCP_USER_TIMEOUT on unacknowledged data,
timeouts on connect and on every read).

probe: COUNT UDP datagrams of SIZE payload bytes, 50 ms apart, with DF
(IPv4 IP_PMTUDISC_DO; IPv6 never fragments on the way anyway) or without
(IPv4 IP_PMTUDISC_DONT), for path MTU tests; local errors (EMSGSIZE once
the host has learnt a smaller path MTU) are counted, not fatal.
"""
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time

SO_RCVBUFFORCE = 33  # Linux; not in Python's socket module
TCP_USER_TIMEOUT = 18
IP_MTU_DISCOVER, IPV6_MTU_DISCOVER = 10, 23
IP_PMTUDISC_DONT, IP_PMTUDISC_DO = 0, 2

MAGIC = b"S6UF"
HDR = struct.Struct("!4sII")  # magic, seq, length
PATTERN = bytes(range(256)) * 8  # longer than 255 + any MAXLEN here
PERIOD = 1048573  # prime: a misplaced segment never lines up with the pattern
STREAM = random.Random(6).randbytes(PERIOD) * 2
REPLY = struct.Struct("!QQ")  # bytes intact, first bad offset + 1 (0: none)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def size_of(seq, maxlen):
    # Small, mid-size and maximum-size datagrams, interleaved.
    fixed = (HDR.size, 64, 512, 1024, maxlen, maxlen - 1)
    if seq % 8 < len(fixed):
        return max(HDR.size, min(maxlen, fixed[seq % 8]))
    return HDR.size + (seq * 7919) % (maxlen - HDR.size + 1)


def datagram(seq, maxlen):
    n = size_of(seq, maxlen)
    start = (seq * 31) & 0xFF
    return HDR.pack(MAGIC, seq, n) + PATTERN[start:start + n - HDR.size]


def udp_recv(addr, port, count, maxlen, ready, done):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    try:  # root: beyond rmem_max, so that a burst never overflows the socket
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind((addr, port))
    s.settimeout(0.1)
    open(ready, "w").close()
    got, wrong, dups = set(), 0, 0
    last = time.monotonic()
    while len(got) < count:
        try:
            data = s.recv(65536)
        except socket.timeout:
            if os.path.exists(done) and time.monotonic() - last > 1.0:
                break
            continue
        last = time.monotonic()
        if len(data) < HDR.size:
            wrong += 1
            continue
        magic, seq, _ = HDR.unpack_from(data)
        if magic != MAGIC or seq >= count or data != datagram(seq, maxlen):
            wrong += 1
        elif seq in got:
            dups += 1
        else:
            got.add(seq)
    missing = [i for i in range(count) if i not in got]
    print(json.dumps({"expected": count, "received": len(got), "wrong": wrong,
                      "duplicates": dups, "missing_first": missing[:10]}))
    return 0 if len(got) == count and not wrong and not dups else 1


def udp_send(addr, port, count, maxlen, opts):
    burst, gap_ms, at, cmd = 32, 1.0, -1, None
    while opts:
        opt = opts.pop(0)
        if opt == "--burst":
            burst = int(opts.pop(0))
        elif opt == "--gap-ms":
            gap_ms = float(opts.pop(0))
        elif opt == "--at":
            at, cmd, opts = int(opts.pop(0)), opts, []
        else:
            raise SystemExit(f"unknown option {opt}")
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    dest = (addr, port)  # not connected: an ICMP error must not stop the flow
    for seq in range(count):
        if cmd and seq == at:
            subprocess.run(cmd, check=True)
        s.sendto(datagram(seq, maxlen), dest)
        if burst and (seq + 1) % burst == 0:
            time.sleep(gap_ms / 1000.0)
    print(json.dumps({"sent": count}))
    return 0


class Stopped(Exception):
    pass


def stop(signum, frame):
    # `timeout` passes a signal on to its whole process group too: once is
    # enough, a second one must not interrupt the report.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stopped()


def tcp_recv(addr, port, nbytes, ready, timeout):
    # SIGTERM (the sender gave up): report what arrived so far.
    signal.signal(signal.SIGTERM, stop)
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(timeout)
    open(ready, "w").close()
    res = {"expected": nbytes, "received": 0, "intact": 0, "first_bad": None, "error": None}
    off, bad = 0, None
    try:
        c, _ = ls.accept()
        c.settimeout(timeout)
        while True:
            data = c.recv(262144)
            if not data:
                break
            if bad is None:
                o = off % PERIOD
                if data != STREAM[o:o + len(data)]:
                    want = STREAM[o:o + len(data)]
                    bad = off + next(i for i in range(len(data)) if data[i] != want[i])
            off += len(data)
        res.update(received=off, intact=off if bad is None else bad, first_bad=bad)
        c.sendall(REPLY.pack(res["intact"], 0 if bad is None else bad + 1))
        c.close()
    except OSError as e:
        res["error"] = f"{type(e).__name__}: {e}"
    except Stopped:
        res["error"] = "stopped after the sender gave up"
    if res["error"]:
        res.update(received=off, intact=off if bad is None else bad, first_bad=bad)
    print(json.dumps(res))
    return 0 if res["intact"] == nbytes == res["received"] else 1


def tcp_send(addr, port, nbytes, timeout):
    res = {"sent": 0, "acknowledged": 0, "error": None}
    t0 = time.monotonic()
    try:
        s = socket.socket(family(addr), socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT, int(timeout * 1000))
        s.settimeout(timeout)
        s.connect((addr, port))
        view = memoryview(STREAM)
        while res["sent"] < nbytes:
            o = res["sent"] % PERIOD
            n = min(262144, nbytes - res["sent"], PERIOD)
            s.sendall(view[o:o + n])
            res["sent"] += n
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while len(reply) < REPLY.size:
            chunk = s.recv(REPLY.size - len(reply))
            if not chunk:
                raise OSError("the receiver closed without an answer")
            reply += chunk
        res["acknowledged"], _ = REPLY.unpack(reply)
    except OSError as e:
        res["error"] = f"{type(e).__name__}: {e}"
    secs = time.monotonic() - t0
    res["gbit_s"] = round(res["acknowledged"] * 8 / secs / 1e9, 2) if secs else 0
    print(json.dumps(res))
    return 0 if res["acknowledged"] == nbytes else 1


def probe(addr, port, size, count, df):
    fam = family(addr)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO if df else IP_PMTUDISC_DONT)
    else:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IP_PMTUDISC_DO)
    sent, errors = 0, []
    for _ in range(count):
        try:
            s.sendto(b"P" * size, (addr, port))
            sent += 1
        except OSError as e:
            errors.append(e.strerror)
        time.sleep(0.05)
    print(json.dumps({"sent": sent, "errors": errors}))
    return 0


def main(argv):
    mode, addr, port = argv[1], argv[2], int(argv[3])
    if mode in ("udp-recv", "udp-send"):
        count, maxlen = int(argv[4]), int(argv[5])
        if not HDR.size <= maxlen <= len(PATTERN) - 255:
            raise SystemExit(f"MAXLEN must be {HDR.size}..{len(PATTERN) - 255}")
        if mode == "udp-recv":
            return udp_recv(addr, port, count, maxlen, argv[6], argv[7])
        return udp_send(addr, port, count, maxlen, argv[6:])
    if mode == "tcp-recv":
        return tcp_recv(addr, port, int(argv[4]), argv[5], float(argv[6]))
    if mode == "tcp-send":
        return tcp_send(addr, port, int(argv[4]), float(argv[5]))
    if mode == "probe":
        return probe(addr, port, int(argv[4]), int(argv[5]), argv[6] == "df")
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
