# shasum: SHA-256 of device files and whole trees (upydev's device utilities, MicroPython 1.22+).
#   from shasum import shasum, shasum_check
#   shasum('boot.py', 'lib')    one line per file; a directory is walked recursively, names sorted
#   shasum('/', dirs=True)      also one line per directory, with "dir" for its hash and 0 for its size
#   shasum('*.py')              a path with * or ? is expanded by nanoglob (installed alongside)
#   shasum_check('sums.txt')    checks lines as shasum prints them (sha256sum's "<hex>  <path>" too): prints
#                               "<path>: OK", "<path>: FAILED" or "<path>: MISSING"; returns the failures
#   sums('lib')                 yields (hex, path, size) tuples, for scripts
# Output, one line per file, printed as soon as the file is hashed (dsync reads it as a stream):
#   <64 hex digits>  <path>  <size in bytes>
# The hash is everything before the first two spaces, the size everything after the last two, the path in
# between, spelled as given and joined with '/' ('.' gives './lib/a.py', '/' gives '/lib/a.py'); a backslash or
# a newline in a path is written as \\ or \n. Any other line is an error message ("shasum: x: [Errno 2] ENOENT").
# Files are read 512 bytes at a time, so the heap use does not grow with their sizes.
import binascii
import hashlib
import os


def _join(d, name):
    return d + name if d.endswith("/") else d + "/" + name


def _escape(path):
    return path.replace("\\", "\\\\").replace("\n", "\\n")


def _unescape(path):
    return path.replace("\\\\", "\0").replace("\\n", "\n").replace("\0", "\\")


def _hash(path, buf, mv):
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while True:
            k = f.readinto(buf)
            if not k:
                break
            h.update(buf if k == 512 else mv[:k])  # no slice object per full buffer
            n += k
    return binascii.hexlify(h.digest()).decode(), n


def _walk(path, dirs, buf, mv):
    if not os.stat(path)[0] & 0x4000:
        yield _hash(path, buf, mv) + (path,)
        return
    if dirs:
        yield "dir", 0, path
    for name in sorted(os.listdir(path)):
        yield from _walk(_join(path, name), dirs, buf, mv)


def _expand(paths):
    for p in paths:
        if "*" in p or "?" in p:
            from nanoglob import iglob

            yield from iglob(p)
        else:
            yield p


def sums(*paths, dirs=False):
    buf = bytearray(512)
    mv = memoryview(buf)
    for p in _expand(paths):
        for h, n, q in _walk(p, dirs, buf, mv):
            yield h, q, n


def shasum(*paths, dirs=False):
    for p in _expand(paths):
        try:
            for h, q, n in sums(p, dirs=dirs):
                print("%s  %s  %d" % (h, _escape(q), n))
        except OSError as e:
            print("shasum: %s: %s" % (p, e))


def shasum_check(listing):
    failed = 0
    buf = bytearray(512)
    mv = memoryview(buf)
    with open(listing) as f:
        for line in f:
            parts = line.rstrip("\r\n").split("  ")
            if len(parts) < 2 or parts[0] == "dir":
                continue
            size = None
            if len(parts) > 2 and parts[-1].isdigit():
                size = int(parts.pop())
            path = _unescape("  ".join(parts[1:]))
            try:
                h, n = _hash(path, buf, mv)
                ok = h == parts[0] and size in (None, n)
                print("%s: %s" % (path, "OK" if ok else "FAILED"))
            except OSError:
                ok = False
                print("%s: MISSING" % path)
            failed += not ok
    return failed
