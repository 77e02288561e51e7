# The emulated device's _webrepl module: login, the WA/WB file protocol and the REPL are served by the
# emulator's TypeScript WebREPL session when os.dupterm attaches the connection.
_password = None


def password(p):
    global _password
    if len(p) > 9:
        raise ValueError()  # the C module keeps 9 characters plus the terminating NUL
    _password = p


class _webrepl:
    def __init__(self, ws):
        self._sock = ws._sock
