# The emulated device's socket module: the subset MicroPython's webrepl and wss_repl use, backed by a real
# TCP listener on the host's 127.0.0.1 (the device port is mapped to a port the OS chooses).
import binascii
from _emu_host import call

AF_INET = 2
SOCK_STREAM = 1
SOCK_RAW = 3
IPPROTO_ICMP = 1
SOL_SOCKET = 1
SO_REUSEADDR = 4
IPPROTO_TCP = 6
TCP_NODELAY = 1
# setsockopt(SOL_SOCKET, 20, callback): the ESP32/ESP8266 accept and data-ready callback option
_CALLBACK_OPT = 20

_listeners = {}


def _is_ipv4(host):
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    # The emulated board has no DNS server: addresses and localhost resolve; any other name fails the way
    # lwip's getaddrinfo does on ESP32 (OSError -202).
    if host == "localhost":
        host = "127.0.0.1"
    elif not _is_ipv4(host):
        raise OSError(-202)
    return [(AF_INET, SOCK_STREAM, 0, "", (host, port))]


def _dispatch(listener_id):
    # The host queues this when a client connects, as the port schedules the accept callback.
    s = _listeners.get(listener_id)
    if s is not None and s._callback is not None:
        try:
            s._callback(s)
        except Exception as e:
            import sys

            sys.print_exception(e)


class _Stream:
    def __init__(self, conn_id):
        self._id = conn_id

    def readline(self):
        return binascii.unhexlify(call("readline", id=self._id))

    def write(self, data):
        call("write", id=self._id, data=binascii.hexlify(data).decode())
        return len(data)

    def setblocking(self, flag):
        call("settimeout", id=self._id, seconds=None if flag else 0)

    def close(self):
        if self._id is not None:
            call("close", id=self._id)
            self._id = None


class _Tcp(_Stream):
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0, _conn_id=None):
        _Stream.__init__(self, _conn_id)
        self._port = None
        self._callback = None

    def setsockopt(self, level, opt, value):
        if level == SOL_SOCKET and opt == _CALLBACK_OPT and self._port is not None:
            self._callback = value
            call("accept_callback", id=self._id, enabled=value is not None)
        elif level == IPPROTO_TCP and opt == TCP_NODELAY and self._port is None:
            call("nodelay", id=self._id, enabled=bool(value))
        # the data-ready callback on a client (os.dupterm_notify) and SO_REUSEADDR need no action: the host
        # delivers session input itself and never reuses ports

    def bind(self, addr):
        self._port = addr[1]

    def listen(self, backlog=0):
        self._id = call("listen", port=self._port, backlog=backlog)
        _listeners[self._id] = self

    def accept(self):
        r = call("accept", id=self._id)
        return _Tcp(_conn_id=r["id"]), tuple(r["addr"])

    def settimeout(self, seconds):
        call("settimeout", id=self._id, seconds=seconds)

    def close(self):
        _listeners.pop(self._id, None)
        _Stream.close(self)


def _sum16(b):
    s = 0
    for i in range(0, len(b) - 1, 2):
        s += b[i] << 8 | b[i + 1]
    if len(b) & 1:
        s += b[-1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class _Icmp:
    # A raw ICMP socket (what uping uses). The emulated board reaches no real network: echo requests to
    # itself or to loopback are answered here, as the network stack would; any other address never answers,
    # and with no interface up (network.WLAN) lwip has no route to it (EHOSTUNREACH, 118 on ESP32).
    def __init__(self):
        self._peer = None
        self._timeout = None
        self._replies = []

    def connect(self, addr):
        self._peer = addr[0]

    def settimeout(self, seconds):
        self._timeout = seconds

    def setblocking(self, flag):
        self._timeout = None if flag else 0

    def send(self, packet):
        import _emu
        import network

        if self._peer in ("localhost", _emu.ip_address) or self._peer.startswith("127."):
            reply = bytearray(packet)
            reply[0] = 0
            reply[2] = reply[3] = 0
            c = _sum16(reply)
            reply[2], reply[3] = c >> 8, c & 0xFF
            ip = [int(part) for part in ("127.0.0.1" if self._peer == "localhost" else self._peer).split(".")]
            header = bytearray([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0] + ip + [127, 0, 0, 1])
            total = len(header) + len(reply)
            header[2], header[3] = total >> 8, total & 0xFF
            self._replies.append(bytes(header) + bytes(reply))
        elif not (network.WLAN(network.STA_IF).isconnected() or network.WLAN(network.AP_IF).active()):
            raise OSError(118)
        return len(packet)

    def recv(self, size):
        if self._replies:
            return self._replies.pop(0)[:size]
        if self._timeout:
            import time

            time.sleep(self._timeout)
        raise OSError(110)

    def close(self):
        self._replies = []


def socket(af=AF_INET, type=SOCK_STREAM, proto=0):
    return _Icmp() if type == SOCK_RAW else _Tcp(af, type, proto)
