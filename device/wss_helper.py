# WebSocket upgrade (RFC 6455, server side) for WebSecureREPL.
# A TLS socket has no makefile() or send(), so only readline() and write() are used.
# Header names are matched exactly, like MicroPython's own webrepl.
import binascii
import hashlib


def server_handshake(cl):
    cl.readline()  # request line: method and path are not checked, as in webrepl
    key = None
    upgrade = False
    websocket = False
    while True:
        line = cl.readline()
        if not line:
            raise OSError("EOF in headers")
        if line == b"\r\n":
            break
        parts = line.split(b":", 1)
        if len(parts) != 2:
            raise OSError("Not a websocket request")
        h = parts[0].strip()
        v = parts[1].strip()
        if h == b"Sec-WebSocket-Key":
            key = v
        elif h == b"Connection" and b"Upgrade" in v:
            upgrade = True
        elif h == b"Upgrade" and v == b"websocket":
            websocket = True
    if not (upgrade and websocket and key):
        raise OSError("Not a websocket request")
    d = hashlib.sha1(key)
    d.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
    cl.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + binascii.b2a_base64(d.digest())[:-1] + b"\r\n\r\n"
    )
