/**
 * Python modules that make the wasm MicroPython look like an ESP32 (generic board, v1.27.0).
 *
 * The wasm port's `sys.platform` is a read-only ROM attribute and module objects cannot be created from Python,
 * so each replacement is a real .py module that copies the builtin (`from sys import *`), overrides what differs
 * and renames itself; the boot code then puts it in `sys.modules`, which `import` consults before builtins.
 * The sources are imported once per boot from a hidden mount and never appear on the emulated flash.
 */

import webreplPy from "./shims/python/_webrepl.py" with { type: "text" };

export const ESP32_MACHINE = "Generic ESP32 module with ESP32";
export const ESP32_BANNER_SUFFIX = `; ${ESP32_MACHINE}`;
/** What the wasm port prints after the version in its banner. */
export const WASM_BANNER_SUFFIX = "; JS with Emscripten";

/** What a fresh ESP32 flash holds (written by the firmware's _boot.py on first boot). */
export const FRESH_BOOT_PY = `# This file is executed on every boot (including wake-boot from deepsleep)
#import esp
#esp.osdebug(None)
#import webrepl
#webrepl.start()
`;

/** mpy version 6.3 for the xtensawin architecture, as ESP32 firmware reports in sys.implementation._mpy. */
const ESP32_MPY = 6 | (3 << 8) | (10 << 10);

const SYS_PY = `from sys import *
import sys as _real
import io as _io
import _emu
try:
    from collections import namedtuple as _nt
    implementation = _nt("implementation", ("name", "version", "_machine", "_mpy", "_build"))(
        _real.implementation.name, _real.implementation.version, "${ESP32_MACHINE}", ${ESP32_MPY}, "ESP32_GENERIC")
    del _nt
except ImportError:
    pass
platform = "esp32"
# Attributes the port serves through attribute delegation, which "from sys import *" does not copy.
path = _real.path
argv = _real.argv


class _RawStdout:
    # sys.stdout.buffer is not cooked on the device (no \\n -> \\r\\n), unlike print and sys.stdout.write.
    def write(self, data):
        _emu.raw_write(data)
        return len(data)

    def flush(self):
        pass


class _Stdout(_io.IOBase):
    def __init__(self, real):
        self._real = real
        self.buffer = _RawStdout()

    def write(self, text):
        return self._real.write(text)

    def __getattr__(self, name):
        return getattr(self._real, name)


stdout = _Stdout(_real.stdout)
del _real, _io
__name__ = "sys"
`;

/**
 * The wasm port raises OSError with Emscripten's errno numbers (ENOENT is 44), while its `errno` module and
 * the ESP32 use the usual small numbers (ENOENT 2), and LittleFS on ESP32 reports ENOTEMPTY as 39. Filesystem
 * calls are wrapped to re-raise with the ESP32 number. Emscripten code → ESP32 code.
 */
const EMSCRIPTEN_TO_ESP32_ERRNO: Record<number, number> = {
  63: 1, // EPERM
  44: 2, // ENOENT
  29: 5, // EIO
  8: 9, // EBADF
  6: 11, // EAGAIN
  48: 12, // ENOMEM
  2: 13, // EACCES
  10: 16, // EBUSY
  20: 17, // EEXIST
  75: 18, // EXDEV
  43: 19, // ENODEV
  54: 20, // ENOTDIR
  31: 21, // EISDIR
  28: 22, // EINVAL
  22: 27, // EFBIG
  51: 28, // ENOSPC
  69: 30, // EROFS
  55: 39, // ENOTEMPTY (LittleFS's own code)
  37: 36, // ENAMETOOLONG (LittleFS's own code)
};

const OS_PY = `from os import *
import os as _real
import _emu
from collections import namedtuple as _nt

_uname = _nt("uname_result", ("sysname", "nodename", "release", "version", "machine"))(
    "esp32", "esp32", "1.27.0", "v1.27.0 on 2025-12-10", "${ESP32_MACHINE}")
del _nt

_ERRNO = {${Object.entries(EMSCRIPTEN_TO_ESP32_ERRNO).map(([from, to]) => `${from}: ${to}`).join(", ")}}


def _esp32_errno(f):
    def call(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except OSError as e:
            if e.args and e.args[0] in _ERRNO:
                raise OSError(_ERRNO[e.args[0]])
            raise
    return call


for _name in ("stat", "listdir", "mkdir", "rmdir", "remove", "unlink", "chdir", "getcwd"):
    globals()[_name] = _esp32_errno(getattr(_real, _name))
del _name
open = _esp32_errno(open)
_ilistdir = _esp32_errno(_real.ilistdir)


def rename(old, new):
    error = _emu.rename(old, new)
    if error:
        raise OSError(_ERRNO.get(error, error))


def uname():
    return _uname


def _sized(path, entries):
    sep = b"/" if isinstance(path, bytes) else "/"
    base = path if path.endswith(sep) else path + sep
    for entry in entries:
        if len(entry) >= 4:
            yield entry
        elif entry[1] == 0x4000:
            yield (entry[0], entry[1], entry[2], 0)
        else:
            yield (entry[0], entry[1], entry[2], stat(base + entry[0])[6])


def ilistdir(path="."):
    # ESP32's LittleFS yields (name, type, inode, size); VfsPosix yields only the first three.
    return _sized(path, _ilistdir(path))


def statvfs(path):
    stat(path)
    size = _emu.flash_size
    free = max(0, size - _emu.flash_used())
    return (4096, 4096, size // 4096, free // 4096, free // 4096, 0, 0, 0, 0, 255)


def urandom(n):
    import random
    return bytes(random.getrandbits(8) for _ in range(n))


__name__ = "os"
`;

const GC_PY = `from gc import *
import gc as _real
import _emu


def mem_free():
    return max(0, _emu.heap_size - _real.mem_alloc())


__name__ = "gc"
`;

const MACHINE_PY = `import _emu

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5


def unique_id():
    return bytes(_emu.unique_id())


def reset():
    _emu.hard_reset()


def soft_reset():
    raise SystemExit


def reset_cause():
    return PWRON_RESET


def freq(hz=None):
    if hz is None:
        return 160000000


def idle():
    pass


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 2
    PULL_DOWN = 1

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self._id = id
        self._value = 0 if value is None else int(bool(value))

    def value(self, v=None):
        if v is None:
            return self._value
        self._value = int(bool(v))

    def on(self):
        self._value = 1

    def off(self):
        self._value = 0

    def __repr__(self):
        return "Pin(%d)" % self._id


class RTC:
    def datetime(self, dt=None):
        import time
        if dt is None:
            t = time.localtime()
            return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)
        time._emu_set(time.mktime((dt[0], dt[1], dt[2], dt[4], dt[5], dt[6], 0, 0)))
`;

// The board's RTC: settable through machine.RTC().datetime(...), as upydev's datetime --set does. The wasm
// port's clock is the host's, so the emulated clock is the host's plus an offset.
const TIME_PY = `from time import *
import time as _real

_offset = 0


def time():
    return _real.time() + _offset


def localtime(secs=None):
    return _real.localtime(time() if secs is None else secs)


def gmtime(secs=None):
    return _real.gmtime(time() if secs is None else secs)


def _emu_set(secs):
    global _offset
    _offset = secs - _real.time()
`;

const NETWORK_PY = `import _emu

STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010


# One state per interface, as the firmware's WLAN objects are singletons: the station starts up and connected.
_active = [True, False]


class WLAN:
    def __init__(self, interface=STA_IF):
        self._if = interface

    def active(self, is_active=None):
        if is_active is None:
            return _active[self._if]
        _active[self._if] = bool(is_active)

    def connect(self, ssid=None, key=None, **kwargs):
        pass

    def disconnect(self):
        pass

    def isconnected(self):
        return self._if == STA_IF and _active[STA_IF]

    def status(self, param=None):
        if param == "rssi":
            return -50
        return STAT_GOT_IP if self.isconnected() else STAT_IDLE

    def scan(self):
        return []

    def ifconfig(self, config=None):
        if config is None:
            return (_emu.ip_address, "255.255.255.0", _emu.ip_address, _emu.ip_address)

    def config(self, *args, **kwargs):
        if args == ("mac",):
            return bytes(_emu.unique_id())
        if args == ("essid",) or args == ("ssid",):
            return "emulator"
        if args == ("hostname",):
            return "esp32"
`;

/** Module sources in import order; those with `replaces` stand in for builtins through sys.modules. */
export const IDENTITY_MODULES: { file: string; source: string; replaces?: string[] }[] = [
  { file: "_emu_sys", source: SYS_PY, replaces: ["sys", "usys"] },
  { file: "_emu_os", source: OS_PY, replaces: ["os", "uos"] },
  { file: "_emu_gc", source: GC_PY, replaces: ["gc"] },
  { file: "_emu_time", source: TIME_PY, replaces: ["time", "utime"] },
  { file: "machine", source: MACHINE_PY },
  { file: "network", source: NETWORK_PY },
  { file: "_webrepl", source: webreplPy },
];
