# upysh2: recursive file commands at the MicroPython REPL (upydev's device utilities, MicroPython 1.22+).
#   from upysh2 import *
#   tree  tree('lib')  tree('/', True)   the tree under a directory (True: hidden names too), then a summary
#   du    du('lib')                      each entry's size in bytes (a directory's: everything under it),
#                                        then the total on a line naming the directory itself
#   rmrf('old')                          removes a file, or a directory with everything under it
#   size('lib')                          the bytes under a path, for scripts
# A failure prints one line instead of a traceback ("du: nope: [Errno 2] ENOENT").
import os


class _Command:
    def __init__(self, name, f, usage=None):
        self._name = name
        self._f = f
        self._usage = usage

    # The REPL prints a bare name's repr: running the command there makes `tree` work without parentheses.
    def __repr__(self):
        if self._usage:
            return "usage: " + self._usage
        self()
        return ""

    def __call__(self, *args):
        try:
            return self._f(*args)
        except OSError as e:
            print("%s: %s%s" % (self._name, "%s: " % args[0] if args else "", e))


def _join(d, name):
    return d + name if d.endswith("/") else d + "/" + name


def _entries(path):
    # ilistdir gives (name, type, inode, size) on LittleFS and FAT, only the first three on POSIX-backed ones
    r = []
    for e in os.ilistdir(path):
        d = e[1] == 0x4000
        r.append((e[0], d, 0 if d else e[3] if len(e) > 3 and e[3] >= 0 else os.stat(_join(path, e[0]))[6]))
    r.sort()
    return r


def _tree(path, hidden, prefix, counts):
    entries = [e for e in _entries(path) if hidden or e[0][0] != "."]
    for i, (name, d, _) in enumerate(entries):
        last = i == len(entries) - 1
        print(prefix + ("└── " if last else "├── ") + name)
        counts[0 if d else 1] += 1
        if d:
            _tree(_join(path, name), hidden, prefix + ("    " if last else "│   "), counts)


def _show_tree(path=".", hidden=False):
    os.listdir(path)  # a missing path or a file fails here, before anything is printed
    counts = [0, 0]
    print(path)
    _tree(path, hidden, "", counts)
    d, f = counts
    print("\n%d director%s, %d file%s" % (d, "y" if d == 1 else "ies", f, "" if f == 1 else "s"))


def size(path):
    st = os.stat(path)
    if not st[0] & 0x4000:
        return st[6]
    return sum(size(_join(path, n)) if d else s for n, d, s in _entries(path))


def _du(path="."):
    total = 0
    if os.stat(path)[0] & 0x4000:
        for name, d, s in _entries(path):
            if d:
                s = size(_join(path, name))
                name += "/"
            total += s
            print("%10d  %s" % (s, name))
    else:
        total = size(path)
    print("%10d  %s" % (total, path))


def _rmrf(path):
    if path.rstrip("/") == "":
        raise OSError("refusing to remove /")
    if os.stat(path)[0] & 0x4000:
        for e in list(os.ilistdir(path)):
            _rmrf(_join(path, e[0]))
        os.rmdir(path)
    else:
        os.remove(path)


tree = _Command("tree", _show_tree)
du = _Command("du", _du)
rmrf = _Command("rmrf", _rmrf, "rmrf(path)")
