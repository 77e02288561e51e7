# upylog: a small rotating file logger with levels (upydev's device utilities, MicroPython 1.22+).
#   import upylog
#   log = upylog.getLogger("main")
#   log.info("started, %d KB free", 92)          debug, info, warning, error, critical
#   log.exception("sensor read failed", e)       the record, then the exception's traceback
#   upylog.basicConfig(level=upylog.DEBUG, filename="/upy.log", max_bytes=8192, stream=True)
# Levels: DEBUG 10, INFO 20 (the default threshold), WARNING 30, ERROR 40, CRITICAL 50.
# The file, which `upydev log` shows: /upy.log, oldest record first, one line per record:
#   YYYY-MM-DD HH:MM:SS LEVEL NAME: MESSAGE
# (the device clock; an exception's traceback lines follow its record). Before a record would take the file
# past max_bytes, it becomes /upy.log.1 (replacing the previous one), so at most about 2 x max_bytes of flash
# is used; read /upy.log.1, then /upy.log. With stream=True (the default) records are printed as well.
import os
import sys
import time

DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
CRITICAL = 50
_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARNING", ERROR: "ERROR", CRITICAL: "CRITICAL"}

FILE = "/upy.log"
level = INFO
filename = FILE
max_bytes = 8192
stream = True


def basicConfig(level=None, filename=None, max_bytes=None, stream=None):
    g = globals()
    for k, v in (("level", level), ("filename", filename), ("max_bytes", max_bytes), ("stream", stream)):
        if v is not None:
            g[k] = v


def _write(text):
    try:
        try:
            if os.stat(filename)[6] + len(text) > max_bytes:
                try:
                    os.remove(filename + ".1")
                except OSError:
                    pass
                os.rename(filename, filename + ".1")
        except OSError:
            pass  # no log file yet
        with open(filename, "a") as f:
            f.write(text)
    except OSError as e:
        print("upylog: cannot write %s: %s" % (filename, e))


class Logger:
    def __init__(self, name):
        self.name = name

    def log(self, lvl, msg, *args, exc=None):
        if lvl < level:
            return
        t = time.localtime()
        text = "%04d-%02d-%02d %02d:%02d:%02d %s %s: %s\n" % (
            t[:6] + (_NAMES.get(lvl, lvl), self.name, msg % args if args else msg)
        )
        if exc is not None:
            import io

            buf = io.StringIO()
            sys.print_exception(exc, buf)
            text += buf.getvalue()
        if stream:
            print(text, end="")
        _write(text)

    def debug(self, msg, *args):
        self.log(DEBUG, msg, *args)

    def info(self, msg, *args):
        self.log(INFO, msg, *args)

    def warning(self, msg, *args):
        self.log(WARNING, msg, *args)

    def error(self, msg, *args):
        self.log(ERROR, msg, *args)

    def critical(self, msg, *args):
        self.log(CRITICAL, msg, *args)

    def exception(self, msg, e, *args):
        self.log(ERROR, msg, *args, exc=e)


def getLogger(name="root"):
    return Logger(name)
