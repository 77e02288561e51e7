// device/uping.py in real MicroPython (wasm) against a fake raw ICMP socket and a fake clock: the wasm port
// has no socket module, and the emulator's socket shim has no SOCK_RAW. The fake checks every echo request
// (type, checksum, id, sequence) and answers with scripted IPv4 + ICMP echo replies, stray packets or silence.
import { assertEquals } from "./helpers/assert.ts";
import { WasmMicroPython } from "./helpers/wasm_micropython.ts";

const py = await WasmMicroPython.load();

const FAKES = String.raw`
import struct, sys

class Clock:
    us = 1000000

class FakeTime:
    def ticks_us(): return Clock.us
    def ticks_ms(): return Clock.us // 1000
    def ticks_diff(a, b): return a - b
    def ticks_add(a, b): return a + b
    def sleep_ms(ms): Clock.us += ms * 1000

CALLS = []
# what the peer does for each echo request, in order: ("reply", rtt_us, ttl), ("stray", us) then the next
# entry, ("timeout",), ("interrupt",) raising KeyboardInterrupt from send
SCRIPT = []

def checksum_ok(b):
    s = sum(b[i] << 8 | b[i + 1] for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF

class RawSocket:
    def __init__(self, af, kind, proto):
        CALLS.append(("socket", af, kind, proto))
        self.timeout = None
        self.pending = None
    def connect(self, addr): CALLS.append(("connect", addr))
    def settimeout(self, t):
        self.timeout = t
        CALLS.append(("settimeout", t))
    def send(self, pkt):
        pkt = bytes(pkt)
        kind, code, _, ident, seq = struct.unpack("!BBHHH", pkt[:8])
        CALLS.append(("send", kind, code, len(pkt), checksum_ok(pkt), seq))
        if SCRIPT and SCRIPT[0][0] == "interrupt":
            raise KeyboardInterrupt
        self.pending = (ident, seq, pkt[8:])
    def recv(self, n):
        step = SCRIPT.pop(0)
        ident, seq, data = self.pending
        if step[0] == "timeout":
            Clock.us += int(self.timeout * 1000000)
            raise OSError(110)
        if step[0] == "stray":
            Clock.us += step[1]
            return bytes(20) + struct.pack("!BBHHH", 0, 0, 0, ident ^ 1, seq) + data
        Clock.us += step[1]
        ip = bytes([0x45, 0, 0, 0, 0, 0, 0, 0, step[2]]) + bytes(11)
        return ip + struct.pack("!BBHHH", 0, 0, 0, ident, seq) + data
    def close(self): CALLS.append(("close",))

class Socket:
    AF_INET = 2
    SOCK_RAW = 3
    socket = RawSocket
    def getaddrinfo(host, port):
        CALLS.append(("getaddrinfo", host, port))
        return [(2, 3, 1, "", ({"esp.example": "10.0.0.2"}.get(host, host), port))]

sys.modules["socket"] = Socket
`;

function ping(script: string, call: string): { out: string; calls: string } {
  py.fresh();
  const out = py.ok(
    `${FAKES}\nimport uping\nuping.time = FakeTime\nSCRIPT.extend([${script}])\nprint(${call})\n` +
      "sys.modules.pop('socket')",
  );
  return { out, calls: py.ok("for c in CALLS:\n print(c)") };
}

Deno.test("uping: replies give per-echo lines and the summary; requests are valid echo requests with growing sequence", () => {
  const { out, calls } = ping(
    "('reply', 1500, 64), ('reply', 2250, 64), ('reply', 3001, 255)",
    "uping.ping('10.0.0.1', count=3, interval=10)",
  );
  assertEquals(
    out,
    "PING 10.0.0.1 (10.0.0.1): 56 data bytes\n" +
      "64 bytes from 10.0.0.1: icmp_seq=1 ttl=64 time=1.500 ms\n" +
      "64 bytes from 10.0.0.1: icmp_seq=2 ttl=64 time=2.250 ms\n" +
      "64 bytes from 10.0.0.1: icmp_seq=3 ttl=255 time=3.001 ms\n" +
      "--- 10.0.0.1 ping statistics ---\n" +
      "3 packets transmitted, 3 packets received, 0% packet loss\n" +
      "round-trip min/avg/max = 1.500/2.250/3.001 ms\n" +
      "(3, 3)\n",
  );
  assertEquals(
    calls,
    "('getaddrinfo', '10.0.0.1', 1)\n('socket', 2, 3, 1)\n('connect', ('10.0.0.1', 1))\n" +
      "('send', 8, 0, 64, True, 1)\n('settimeout', 5.0)\n('send', 8, 0, 64, True, 2)\n('settimeout', 5.0)\n" +
      "('send', 8, 0, 64, True, 3)\n('settimeout', 5.0)\n('close',)\n",
  );
});

Deno.test("uping: a timeout is reported, a stray packet is skipped while its time counts, names resolve, size sets the packet", () => {
  const { out, calls } = ping(
    "('reply', 800, 64), ('timeout',), ('stray', 400000), ('reply', 1200, 64)",
    "uping.ping('esp.example', count=3, interval=0, timeout=1000, size=20)",
  );
  assertEquals(
    out,
    "PING esp.example (10.0.0.2): 12 data bytes\n" +
      "20 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.800 ms\n" +
      "Request timeout for icmp_seq=2\n" +
      "20 bytes from 10.0.0.2: icmp_seq=3 ttl=64 time=401.200 ms\n" +
      "--- esp.example ping statistics ---\n" +
      "3 packets transmitted, 2 packets received, 33% packet loss\n" +
      "round-trip min/avg/max = 0.800/201.000/401.200 ms\n" +
      "(3, 2)\n",
  );
  // After the stray packet only the rest of the second is left to wait.
  assertEquals(
    calls.split("\n").filter((c) => c.startsWith("('settimeout'")).join(" "),
    "('settimeout', 1.0) ('settimeout', 1.0) ('settimeout', 1.0) ('settimeout', 0.6)",
  );
  assertEquals(calls.split("\n").filter((c) => c.startsWith("('send'")).length, 3);
});

Deno.test("uping: quiet prints only the summary; no reply at all leaves out the round-trip line", () => {
  const { out } = ping(
    "('timeout',), ('timeout',)",
    "uping.ping('10.0.0.1', count=2, interval=0, quiet=True)",
  );
  assertEquals(
    out,
    "--- 10.0.0.1 ping statistics ---\n2 packets transmitted, 0 packets received, 100% packet loss\n(2, 0)\n",
  );
});

Deno.test("uping: Ctrl-C stops the run, still prints the summary and closes the socket", () => {
  const { out, calls } = ping("('reply', 1000, 64), ('interrupt',)", "uping.ping('10.0.0.1', interval=0)");
  assertEquals(
    out,
    "PING 10.0.0.1 (10.0.0.1): 56 data bytes\n64 bytes from 10.0.0.1: icmp_seq=1 ttl=64 time=1.000 ms\n" +
      "--- 10.0.0.1 ping statistics ---\n1 packets transmitted, 1 packets received, 0% packet loss\n" +
      "round-trip min/avg/max = 1.000/1.000/1.000 ms\n(1, 1)\n",
  );
  assertEquals(calls.trim().split("\n").at(-1), "('close',)");
});
