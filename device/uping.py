# uping: ICMP echo ("ping") from the device (upydev's device utilities, MicroPython 1.22+; after the
# well-known uping.py by shawwwn).
#   from uping import ping
#   ping('192.168.1.1')              4 echoes 1000 ms apart, each awaited up to 5000 ms
#   ping('example.com', count=10, interval=200, timeout=1000, size=64, quiet=True)
# returns (transmitted, received); Ctrl-C stops early and still prints the summary. Output:
#   PING 192.168.1.1 (192.168.1.1): 56 data bytes
#   64 bytes from 192.168.1.1: icmp_seq=1 ttl=64 time=3.215 ms
#   Request timeout for icmp_seq=2
#   --- 192.168.1.1 ping statistics ---
#   4 packets transmitted, 3 packets received, 25% packet loss
#   round-trip min/avg/max = 2.801/3.044/3.215 ms
# size is the ICMP packet's (8-byte header + data). It needs a raw socket (SOCK_RAW, IPPROTO_ICMP), which
# ESP32 firmware has; the module uses its globals `socket` and `time`, so tests replace them.
import socket
import struct
import time


def _checksum(b):
    if len(b) & 1:
        b += b"\0"
    s = 0
    for i in range(0, len(b), 2):
        s += b[i] << 8 | b[i + 1]
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def _ms(us):
    return "%d.%03d" % (us // 1000, us % 1000)


def _reply(sock, ident, seq, deadline):
    # the raw socket sees every ICMP packet from the peer: wait for the echo reply matching ident and seq
    while True:
        left = time.ticks_diff(deadline, time.ticks_ms())
        if left <= 0:
            return None
        sock.settimeout(left / 1000)
        try:
            r = sock.recv(1500)
        except OSError:
            return None
        h = (r[0] & 0x0F) * 4
        if len(r) >= h + 8:
            kind, _, _, i, s = struct.unpack("!BBHHH", r[h : h + 8])
            if kind == 0 and i == ident and s == seq:
                return r[8], len(r) - h


def ping(host, count=4, interval=1000, timeout=5000, size=64, quiet=False):
    addr = socket.getaddrinfo(host, 1)[0][-1][0]
    ident = time.ticks_us() & 0xFFFF
    data = bytes(i & 0xFF for i in range(size - 8))
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)
    sent = received = 0
    rtts = []
    if not quiet:
        print("PING %s (%s): %d data bytes" % (host, addr, size - 8))
    try:
        sock.connect((addr, 1))
        for seq in range(1, count + 1):
            if seq > 1:
                time.sleep_ms(interval)
            pkt = bytearray(struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data)
            struct.pack_into("!H", pkt, 2, _checksum(pkt))
            t0 = time.ticks_us()
            sock.send(pkt)
            sent += 1
            r = _reply(sock, ident, seq, time.ticks_add(time.ticks_ms(), timeout))
            if r is None:
                if not quiet:
                    print("Request timeout for icmp_seq=%d" % seq)
                continue
            rtt = time.ticks_diff(time.ticks_us(), t0)
            received += 1
            rtts.append(rtt)
            if not quiet:
                print("%d bytes from %s: icmp_seq=%d ttl=%d time=%s ms" % (r[1], addr, seq, r[0], _ms(rtt)))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("--- %s ping statistics ---" % host)
    print(
        "%d packets transmitted, %d packets received, %d%% packet loss"
        % (sent, received, (sent - received) * 100 // sent if sent else 0)
    )
    if rtts:
        print("round-trip min/avg/max = %s/%s/%s ms" % (_ms(min(rtts)), _ms(sum(rtts) // len(rtts)), _ms(max(rtts))))
    return sent, received
