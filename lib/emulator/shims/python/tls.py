# The emulated device's tls module (MicroPython 1.23+ API, server side only): the TLS handshake is a real
# node:tls server handshake on the host, requesting a client certificate only when verify_mode is
# CERT_REQUIRED (or CERT_OPTIONAL), TLS 1.2 at most like mbedtls.
import binascii
from _emu_host import call
from socket import _Stream

PROTOCOL_TLS_CLIENT = 0
PROTOCOL_TLS_SERVER = 1
CERT_NONE = 0
CERT_OPTIONAL = 1
CERT_REQUIRED = 2
MBEDTLS_VERSION = "emulated (node:tls)"


def _hex(data):
    return binascii.hexlify(data).decode()


class SSLContext:
    def __init__(self, protocol):
        if protocol != PROTOCOL_TLS_SERVER:
            raise ValueError("the emulator only serves TLS")
        self._id = call("tls_context")
        # the port's default: a server does not verify clients unless told to
        self.verify_mode = CERT_NONE

    def load_cert_chain(self, cert, key):
        call("tls_load_cert_chain", id=self._id, cert=_hex(cert), key=_hex(key))

    def load_verify_locations(self, cadata):
        call("tls_load_verify_locations", id=self._id, cadata=_hex(cadata))

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, server_hostname=None):
        if not server_side:
            raise ValueError("the emulator only serves TLS")
        call("tls_wrap", id=self._id, conn=sock._id, verify_mode=self.verify_mode)
        return SSLSocket(sock._id)


class SSLSocket(_Stream):
    # like the port's SSLSocket: readline/write/setblocking/close, but no makefile, send, recv or setsockopt
    def cipher(self):
        return tuple(call("tls_cipher", id=self._id))
