# sync_tool: the device side of bulk transfers inside an open WebREPL/WebSecureREPL session, for get and
# dsync (upydev's device utilities, MicroPython 1.22+). Everything goes through the session's raw REPL, so
# over wss it stays inside TLS; no other socket is opened. Raw bytes cannot cross the raw REPL (\x04 ends a
# reply), so file data travels as base64.
#
# Device to host: send(*paths, chunk=1536) prints, for each path in turn:
#   F <size> <path>        the header: size from os.stat, then the path as given
#   <base64>               ceil(size / chunk) lines, each the base64 of up to `chunk` bytes (none when empty)
#   E <sha256 hex>         the SHA-256 of the bytes sent
# or, for a path that cannot be read, the single line
#   X <errno> <path>
# Paths are written as shasum writes them (a backslash or a newline as \\ or \n). ESP32 may end lines with
# \r\n. The host checks that the data decodes to <size> bytes with the announced SHA-256.
#
# Host to device, as calls in code the host executes; several small files fit in one exec:
#   recv_begin(path, size)   opens a temporary file beside path (.upytmp-sync); the directory must exist
#   recv_data(b'<base64>')   appends decoded bytes; call it as often as needed
#   recv_end('<sha256 hex>') checks size and SHA-256, renames the temporary file to path and prints
#                            "OK <path>"; on a mismatch it removes the temporary file and raises ValueError
import binascii
import hashlib
import os
import sys

_rx = None  # [file, path, temporary path, expected size, size so far, sha256]


def _escape(path):
    return path.replace("\\", "\\\\").replace("\n", "\\n")


def send(*paths, chunk=1536):
    out = sys.stdout
    buf = bytearray(chunk)
    mv = memoryview(buf)
    for p in paths:
        try:
            size = os.stat(p)[6]
            f = open(p, "rb")
        except OSError as e:
            out.write("X %d %s\n" % (e.args[0], _escape(p)))
            continue
        h = hashlib.sha256()
        with f:
            out.write("F %d %s\n" % (size, _escape(p)))
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                b = buf if n == chunk else mv[:n]
                h.update(b)
                out.write(binascii.b2a_base64(b))
        out.write("E %s\n" % binascii.hexlify(h.digest()).decode())


def recv_begin(path, size):
    global _rx
    if _rx:
        _abort()
    slash = path.rfind("/")
    tmp = path[: slash + 1] + ".upytmp-sync"
    _rx = [open(tmp, "wb"), path, tmp, size, 0, hashlib.sha256()]


def recv_data(b64):
    b = binascii.a2b_base64(b64)
    _rx[0].write(b)
    _rx[4] += len(b)
    _rx[5].update(b)


def recv_end(sha):
    global _rx
    f, path, tmp, size, got, h = _rx
    f.close()
    digest = binascii.hexlify(h.digest()).decode()
    if got != size or digest != sha:
        _abort()
        raise ValueError("%s: received %d of %d bytes%s" % (path, got, size, ", SHA-256 differs" if got == size else ""))
    _rx = None
    try:
        os.rename(tmp, path)
    except OSError:  # FAT cannot rename over an existing file
        os.remove(path)
        os.rename(tmp, path)
    print("OK %s" % _escape(path))


def _abort():
    global _rx
    _rx[0].close()
    try:
        os.remove(_rx[2])
    except OSError:
        pass
    _rx = None
