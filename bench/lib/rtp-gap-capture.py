#!/usr/bin/env python3
"""
What the callers of a bench row heard: a packet capture on the loopback interface of the RTP the server sends
to the SIPp media ports, reduced on the fly to one record per stream (server source port → SIPp port; one server port per call):
packets, first and last arrival, and the largest gap between two consecutive packets.

Node has no packet sockets, SIPp cannot tell (all calls of one SIPp process share one media port, and it never
looks at what it receives), and tcpdump/tshark are not installed here: a Linux AF_PACKET socket does it with the
kernel's own arrival timestamps (SO_TIMESTAMPNS), so a capture process that lags behind the packets does not
invent gaps; a classic BPF filter in the kernel keeps only UDP to the given destination port range; the
kernel's drop counter (PACKET_STATISTICS) says whether the capture itself lost packets (then gaps may be false).

    python3 rtp-gap-capture.py <dst port min> <dst port max>

Needs root (CAP_NET_RAW). Prints "ready" on stderr once capturing; on SIGTERM or SIGINT prints one JSON object
on stdout: {"streams": [{"src": 20002, "dst": 48000, "ssrcs": 1, "packets": 706, "firstNs": ..., "lastNs": ...,
"maxGapMs": 31.2, "maxGapAfterMs": 11250.0}] (the largest gap starts maxGapAfterMs after the first packet), "kernelDrops": 0, "packets": N}.
"""
import json
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
PACKET_OUTGOING = 4


def bpf_udp_dst_range(lo, hi):
    """Classic BPF: IPv4, UDP, not a fragment, destination port within [lo, hi] (Ethernet framing, as on lo)."""
    ins = [
        (0x28, 0, 0, 12),          # ldh [12]           ethertype
        (0x15, 0, 8, 0x0800),      # jeq IPv4 else drop
        (0x30, 0, 0, 23),          # ldb [23]           protocol
        (0x15, 0, 6, 17),          # jeq UDP else drop
        (0x28, 0, 0, 20),          # ldh [20]           flags + fragment offset
        (0x45, 4, 0, 0x1FFF),      # jset fragment → drop
        (0xB1, 0, 0, 14),          # ldxb 4*([14]&0xf)  IP header length
        (0x48, 0, 0, 16),          # ldh [x+16]         UDP destination port
        (0x35, 0, 1, lo),          # jge lo else drop
        (0x25, 0, 1, hi),          # jgt hi → drop, else accept
        (0x06, 0, 0, 0),           # drop
        (0x06, 0, 0, 0x40000),     # accept (whole packet; only headers are read)
    ]
    # Jumps are relative to the next instruction: index 10 is the drop, 11 the accept.
    fixed = [struct.pack('HBBI', *i) for i in ins]
    prog = b''.join(fixed)
    return prog, len(fixed)


def main():
    lo, hi = int(sys.argv[1]), int(sys.argv[2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    prog, n = bpf_udp_dst_range(lo, hi)
    import ctypes
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack('HL', n, ctypes.addressof(buf))
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 * 1024 * 1024)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind(('lo', 0))
    # Packets queued before the filter was attached may be of any kind; drain them.
    s.setblocking(False)
    try:
        while True:
            s.recv(65536)
    except BlockingIOError:
        pass
    s.setblocking(True)
    s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)  # reading the statistics resets them

    streams = {}
    total = [0]
    stopping = [False]

    def stop(_sig, _frm):
        stopping[0] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    s.settimeout(0.2)
    sys.stderr.write('ready\n')
    sys.stderr.flush()
    cmsg_space = socket.CMSG_SPACE(16)
    while not stopping[0]:
        try:
            data, anc, _flags, addr = s.recvmsg(96, cmsg_space)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        # On lo every packet is seen twice (sent, then received): keep the received copy only.
        if addr[2] == PACKET_OUTGOING:
            continue
        ns = None
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack('qq', cdata[:16])
                ns = sec * 1_000_000_000 + nsec
        if ns is None:
            continue
        ihl = (data[14] & 0x0F) * 4
        u = 14 + ihl
        if len(data) < u + 8 + 12:
            continue
        src, dst = struct.unpack_from('!HH', data, u)
        ssrc = struct.unpack_from('!I', data, u + 8 + 8)[0]
        total[0] += 1
        key = (src, dst)
        st = streams.get(key)
        if st is None:
            streams[key] = [1, ns, ns, 0, {ssrc}, ns]
        else:
            st[4].add(ssrc)
            gap = ns - st[2]
            if gap > st[3]:
                st[3] = gap
                st[5] = st[2]
            st[0] += 1
            st[2] = ns
    drops = 0
    try:
        _packets, drops = struct.unpack('II', s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    except OSError:
        pass
    out = {
        'packets': total[0],
        'kernelDrops': drops,
        'streams': [
            {'src': k[0], 'dst': k[1], 'ssrcs': len(v[4]), 'packets': v[0], 'firstNs': v[1], 'lastNs': v[2], 'maxGapMs': v[3] / 1e6, 'maxGapAfterMs': (v[5] - v[1]) / 1e6}
            for k, v in streams.items()
        ],
    }
    sys.stdout.write(json.dumps(out))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
