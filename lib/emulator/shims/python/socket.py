# The emulated device's socket module: the subset MicroPython's webrepl and wss_repl use, backed by a real
# TCP listener on the host's 127.0.0.1 (the device port is mapped to a port the OS chooses).
import binascii
from _emu_host import call

AF_INET = 2
SOCK_STREAM = 1
SOL_SOCKET = 1
SO_REUSEADDR = 4
IPPROTO_TCP = 6
TCP_NODELAY = 1
# setsockopt(SOL_SOCKET, 20, callback): the ESP32/ESP8266 accept and data-ready callback option
_CALLBACK_OPT = 20

_listeners = {}


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
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


class socket(_Stream):
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0, _conn_id=None):
        _Stream.__init__(self, _conn_id)
        self._port = None
        self._callback = None

    def setsockopt(self, level, opt, value):
        if level == SOL_SOCKET and opt == _CALLBACK_OPT and self._port is not None:
            self._callback = value
            call("accept_callback", id=self._id, enabled=value is not None)
        # the data-ready callback on a client (os.dupterm_notify), SO_REUSEADDR and TCP_NODELAY need no
        # action: the host delivers session input itself and never reuses ports

    def bind(self, addr):
        self._port = addr[1]

    def listen(self, backlog=0):
        self._id = call("listen", port=self._port, backlog=backlog)
        _listeners[self._id] = self

    def accept(self):
        r = call("accept", id=self._id)
        return socket(_conn_id=r["id"]), tuple(r["addr"])

    def settimeout(self, seconds):
        call("settimeout", id=self._id, seconds=seconds)

    def close(self):
        _listeners.pop(self._id, None)
        _Stream.close(self)
