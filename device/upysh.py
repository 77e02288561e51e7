# upysh: Unix-like file commands at the MicroPython REPL (upydev's device utilities, MicroPython 1.22+).
#   from upysh import *
#   ls  pwd  cd             a bare name runs the command without arguments, like MicroPython's own upysh
#   ls('lib')  ls('/', True)   (True: hidden names too)     cd('lib')  cd()  (to /)
#   cat('boot.py')  head('log.txt', 5)  mkdir('d')  rm('f')  rmdir('d')  mv('a', 'b')  cp('a', 'b')  touch('f')
# mv and cp into an existing directory keep the name. A failure prints one line instead of a traceback:
#   rm: nope.py: [Errno 2] ENOENT
# ls prints "<size or <dir>>  <name>" lines, sizes right-aligned in 10 columns, names sorted.
import os
import sys


class _Command:
    def __init__(self, name, f, usage=None):
        self._name = name
        self._f = f
        self._usage = usage

    # The REPL prints a bare name's repr: running the command there makes `ls` work without parentheses.
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


def _isdir(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0
    except OSError:
        return False


def _entries(path):
    # ilistdir gives (name, type, inode, size) on LittleFS and FAT, only the first three on POSIX-backed ones
    r = []
    for e in os.ilistdir(path):
        d = e[1] == 0x4000
        r.append((e[0], d, 0 if d else e[3] if len(e) > 3 and e[3] >= 0 else os.stat(_join(path, e[0]))[6]))
    r.sort()
    return r


def _ls(path=".", hidden=False):
    st = os.stat(path)
    if not st[0] & 0x4000:
        print("%10d  %s" % (st[6], path))
        return
    for name, d, size in _entries(path):
        if hidden or name[0] != ".":
            print("%10s  %s" % ("<dir>" if d else size, name + "/" if d else name))


def _copy(src, dst):
    buf = bytearray(512)
    mv = memoryview(buf)
    with open(src, "rb") as i, open(dst, "wb") as o:
        while True:
            n = i.readinto(buf)
            if not n:
                break
            o.write(mv[:n])


def _into(src, dst):
    return _join(dst, src.rstrip("/").split("/")[-1]) if _isdir(dst) else dst


def _cat(path):
    with open(path, "rb") as f:
        while True:
            b = f.read(256)
            if not b:
                break
            sys.stdout.write(b)


def _head(path, n=10):
    with open(path, "rb") as f:
        for _ in range(n):
            line = f.readline()
            if not line:
                break
            sys.stdout.write(line)


ls = _Command("ls", _ls)
pwd = _Command("pwd", lambda: print(os.getcwd()))
cd = _Command("cd", lambda path="/": os.chdir(path))
cat = _Command("cat", _cat, "cat(path)")
head = _Command("head", _head, "head(path, n=10)")
mkdir = _Command("mkdir", os.mkdir, "mkdir(path)")
rm = _Command("rm", os.remove, "rm(path)")
rmdir = _Command("rmdir", os.rmdir, "rmdir(path)")
mv = _Command("mv", lambda src, dst: os.rename(src, _into(src, dst)), "mv(src, dst)")
cp = _Command("cp", lambda src, dst: _copy(src, _into(src, dst)), "cp(src, dst)")
touch = _Command("touch", lambda path: open(path, "a").close(), "touch(path)")
