# WebREPL for MicroPython 1.22+ on ESP32: plain on ws:// (like MicroPython's webrepl), or WebSecureREPL on
# wss://, WebREPL inside TLS that requires a client certificate signed by the ROOT CA.
# If mutual TLS cannot be set up completely, start(ssl=True) refuses to listen: it never falls back to
# server-only TLS or plain WebREPL, because the short WebREPL password alone is too weak a gate.
import binascii
import gc
import os
import socket
import websocket
import _webrepl
import wss_helper

PORT = 8266
SSL_PORT = 8833
CA_FILE = "/ROOT_CA_cert.pem"
# The handshake runs inside the accept callback and blocks the REPL, so a silent peer must not hold it.
HANDSHAKE_TIMEOUT_S = 10

listen_s = None
client_s = None
_wrap = None  # set while serving wss: wraps an accepted socket in client-verifying TLS


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        raise OSError("cannot read " + path)


def _pem_to_der(pem):
    # mbedtls on ports other than ESP32 has no PEM parser, so the CA is handed over as DER.
    start = pem.find(b"-----BEGIN CERTIFICATE-----")
    end = pem.find(b"-----END CERTIFICATE-----")
    if start < 0 or end < start:
        raise ValueError("no certificate in " + CA_FILE)
    return binascii.a2b_base64(pem[start + 27 : end])


def _mutual_tls():
    try:
        import tls
    except ImportError:
        import ssl as tls  # before v1.23 the C module was called ssl
    import machine

    uid = binascii.hexlify(machine.unique_id()).decode()
    key = _read("/SSL_key%s.der" % uid)
    cert = _read("/SSL_certificate%s.der" % uid)
    ca = _pem_to_der(_read(CA_FILE))
    if not hasattr(tls, "CERT_REQUIRED"):
        raise ValueError("this firmware cannot require client certificates")
    if not hasattr(tls, "SSLContext"):
        # v1.20-v1.21: cert_reqs and cadata exist only as wrap_socket arguments
        return lambda s: tls.wrap_socket(
            s, server_side=True, key=key, cert=cert, cadata=ca, cert_reqs=tls.CERT_REQUIRED
        )
    ctx = tls.SSLContext(tls.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = tls.CERT_REQUIRED
    # Some TLS backends accept the assignment but keep CERT_NONE.
    if ctx.verify_mode != tls.CERT_REQUIRED:
        raise ValueError("this firmware cannot require client certificates")
    return lambda s: ctx.wrap_socket(s, server_side=True)


def _ip():
    try:
        import network

        for i in (network.STA_IF, network.AP_IF):
            iface = network.WLAN(i)
            if iface.active():
                return iface.ifconfig()[0]
    except (ImportError, AttributeError, OSError):
        pass
    return "0.0.0.0"


def _session_active():
    prev = os.dupterm(None)
    os.dupterm(prev)
    return prev is not None


def _accept(ls):
    global client_s
    raw, addr = ls.accept()
    cl = raw
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError):
        pass  # older ports lack the constants; Nagle then only costs latency
    try:
        raw.settimeout(HANDSHAKE_TIMEOUT_S)
        if _wrap:
            cl = _wrap(raw)
        wss_helper.server_handshake(cl)
    except Exception as e:
        cl.close()
        if not _session_active():
            print("\nWebREPL connection from %s failed: %s: %s" % (addr, type(e).__name__, e))
        return False
    if _session_active():
        print("\nConcurrent WebREPL connection from", addr, "rejected")
        cl.close()
        return False
    print("\nWebREPL connection from:", addr)
    client_s = cl
    ws = websocket.websocket(cl, True)
    ws = _webrepl._webrepl(ws)
    cl.setblocking(False)
    if hasattr(os, "dupterm_notify"):
        # the TLS socket has no setsockopt: the notification goes on the raw socket
        raw.setsockopt(socket.SOL_SOCKET, 20, os.dupterm_notify)
    os.dupterm(ws)
    return True


def _start(port, password, ssl, accept_handler):
    global listen_s, _wrap
    stop()
    name = "WebSecureREPL" if ssl else "WebREPL"
    try:
        if password is None:
            import webrepl_cfg

            password = webrepl_cfg.PASS
        _webrepl.password(password)
        _wrap = _mutual_tls() if ssl else None
    except Exception as e:
        print("%s not started: %s: %s" % (name, type(e).__name__, e))
        return False
    if port is None:
        port = SSL_PORT if ssl else PORT
    listen_s = socket.socket()
    listen_s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listen_s.bind(socket.getaddrinfo("0.0.0.0", port)[0][-1])
    listen_s.listen(1)
    if accept_handler:
        listen_s.setsockopt(socket.SOL_SOCKET, 20, accept_handler)
    gc.collect()
    print("%s daemon started on %s://%s:%d" % (name, "wss" if ssl else "ws", _ip(), port))
    return True


def start(port=None, password=None, ssl=False):
    _start(port, password, ssl, _accept)


def start_foreground(port=None, password=None, ssl=False):
    # For ports whose sockets have no accept callback: blocks until one session is attached.
    if _start(port, password, ssl, None):
        while not _accept(listen_s):
            pass


def stop():
    global listen_s, client_s, _wrap
    os.dupterm(None)
    if client_s:
        client_s.close()
    if listen_s:
        listen_s.close()
    listen_s = client_s = _wrap = None
