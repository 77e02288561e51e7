# nanoglob: shell wildcards for MicroPython (upydev's device utilities, MicroPython 1.22+).
#   from nanoglob import glob
#   glob('*.py')                   ['boot.py', 'main.py']
#   glob('lib/**/*.py', '*.txt')   several patterns: results pattern by pattern, names sorted in each directory
#   glob('**', size=True)          [(size, path), ...]; a directory's size is 0
#   glob('lib/*', dir_only=True)   directories only
#   iglob(...)                     the same results one at a time, without building a list
# `*` matches any run of characters within a name, `?` one character, and a `**` segment zero or more
# directories (alone at the end: everything below). As in a shell, a wildcard matches a name starting with
# '.' only when its pattern segment starts with '.' too. Paths come back as the pattern spells them:
# 'lib/*' gives 'lib/a.py', '/lib/*' gives '/lib/a.py'.
import os


def _match(name, pat):
    # iterative wildcard matching: on a mismatch, let the last '*' swallow one more character
    n = p = 0
    star = -1
    mark = 0
    while n < len(name):
        if p < len(pat) and (pat[p] == "?" or pat[p] == name[n]):
            n += 1
            p += 1
        elif p < len(pat) and pat[p] == "*":
            star = p
            mark = n
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            n = mark
        else:
            return False
    while p < len(pat) and pat[p] == "*":
        p += 1
    return p == len(pat)


def _join(d, name):
    return name if not d else d + name if d.endswith("/") else d + "/" + name


def _names(d):
    try:
        r = [(e[0], e[1] == 0x4000) for e in os.ilistdir(d or ".")]
    except OSError:
        return []
    r.sort()
    return r


def _isdir(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0
    except OSError:
        return False


def _glob(d, segs):
    s = segs[0]
    rest = segs[1:]
    if s == "**":
        if rest:
            yield from _glob(d, rest)
        for name, is_dir in _names(d):
            if name[0] != ".":
                p = _join(d, name)
                if not rest:
                    yield p
                if is_dir:
                    yield from _glob(p, segs)
    elif "*" in s or "?" in s:
        for name, is_dir in _names(d):
            if (name[0] != "." or s[0] == ".") and _match(name, s):
                p = _join(d, name)
                if not rest:
                    yield p
                elif is_dir:
                    yield from _glob(p, rest)
    else:
        p = _join(d, s)
        if rest:
            if _isdir(p):
                yield from _glob(p, rest)
        else:
            try:
                os.stat(p)
                yield p
            except OSError:
                pass


def iglob(*patterns, size=False, dir_only=False):
    for pat in patterns:
        segs = [s for s in pat.split("/") if s]
        root = "/" if pat.startswith("/") else ""
        for p in _glob(root, segs) if segs else [root] if root else []:
            if size or dir_only:
                st = os.stat(p)
                d = st[0] & 0x4000
                if dir_only and not d:
                    continue
                if size:
                    p = (0 if d else st[6], p)
            yield p


def glob(*patterns, size=False, dir_only=False):
    return list(iglob(*patterns, size=size, dir_only=dir_only))
