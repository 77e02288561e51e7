# upysecrets: the device side of upydev's random WebREPL passwords, `upydev rf_wrkey` (upydev's device
# utilities, MicroPython 1.22+). A password is 9 characters from ALPHABET; setting one rewrites /webrepl_cfg.py
# atomically (other lines kept) and applies it to the running WebREPL at once (the open session stays).
#   set_password(pw)      over wss, inside TLS: the host drew pw from its CSPRNG
#   rf_wrkey(token, tag)  over plain ws, where nothing secret may cross the link: the host sends a random
#                         token, and both sides derive the password from a secret they share
#   set_secret(hex)       stores that 32-byte secret in /upysecrets.key; send it only over wss or USB
# Derivation (host side: lib/ops/secrets.ts, same algorithm, checked against this file with shared vectors):
#   secret = 32 bytes, token = 16 random bytes (both sent as hex), HMAC = HMAC-SHA256(secret, ...)
#   tag      = hex(HMAC(b"upysecrets confirm v1" + token))[:32]
#   stream   = HMAC(b"upysecrets wrkey v1" + token + b"\x01") + HMAC(... + b"\x02") + ...
#   password = ALPHABET[b % 62] for each stream byte b < 248, skipping the others, until 9 characters
# 248 is 4 x 62, so every character is equally likely (no modulo bias): 62**9, about 2**53.6 passwords.
# The tag shows the device that the host holds the same secret before anything changes (a mismatch would
# lock the host out); it is a MAC under another label, so it tells a listener nothing about the password.
# Neither the password nor the secret is ever printed; rf_wrkey prints "WebREPL password changed".
import binascii
import hashlib
import os
import sys

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
SECRET_FILE = "/upysecrets.key"
CFG_FILE = "/webrepl_cfg.py"


def _hmac(key, msg):
    # MicroPython's hashlib has no hmac (RFC 2104)
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key += bytes(64 - len(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(msg)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


def confirm_tag(secret, token):
    return binascii.hexlify(_hmac(secret, b"upysecrets confirm v1" + token)).decode()[:32]


def derive(secret, token, length=9):
    pw = ""
    block = 0
    while True:
        block += 1
        for b in _hmac(secret, b"upysecrets wrkey v1" + token + bytes((block,))):
            if b < 248:
                pw += ALPHABET[b % 62]
                if len(pw) == length:
                    return pw


def _write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    try:
        os.rename(tmp, path)
    except OSError:  # FAT cannot rename over an existing file
        os.remove(path)
        os.rename(tmp, path)


def set_password(pw):
    if not 4 <= len(pw) <= 9:
        raise ValueError("a WebREPL password has 4 to 9 characters")
    try:
        with open(CFG_FILE) as f:
            keep = [line for line in f if not line.startswith("PASS")]
    except OSError:
        keep = []
    _write_atomic(CFG_FILE, "".join(keep) + "PASS = %s\n" % repr(pw))
    sys.modules.pop("webrepl_cfg", None)
    try:
        import _webrepl

        _webrepl.password(pw)
    except ImportError:
        pass


def _secret():
    try:
        with open(SECRET_FILE) as f:
            return binascii.unhexlify(f.read().strip())
    except (OSError, ValueError):
        raise ValueError("no shared secret in %s: set one over wss or USB (set_secret)" % SECRET_FILE)


def rf_wrkey(token, tag):
    secret = _secret()
    token = binascii.unhexlify(token)
    if len(token) != 16:
        raise ValueError("the token has 16 bytes (32 hex digits)")
    if confirm_tag(secret, token) != tag:
        raise ValueError("the host's secret differs from this device's: password unchanged")
    set_password(derive(secret, token))
    print("WebREPL password changed")


def set_secret(hex_secret):
    if len(binascii.unhexlify(hex_secret)) != 32:
        raise ValueError("the secret has 32 bytes (64 hex digits)")
    _write_atomic(SECRET_FILE, hex_secret + "\n")
