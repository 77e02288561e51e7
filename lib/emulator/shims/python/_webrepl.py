# The emulated device's _webrepl module (every ESP32 firmware with WebREPL has it): login, the WA/WB file
# protocol and the REPL are served by the emulator's TypeScript WebREPL session once os.dupterm attaches the
# connection. The password is modwebrepl.c's global: the host checks each login against it.
import _emu


def password(p):
    if len(p) > 9:
        raise ValueError()  # the C module keeps 9 characters plus the terminating NUL
    _emu.webrepl_password(p)


class _webrepl:
    def __init__(self, ws):
        self._sock = ws._sock
