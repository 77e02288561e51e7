# The emulated device's websocket module: framing is done by the emulator's TypeScript WebREPL session once
# os.dupterm attaches the connection, so this only carries the connection through.
class websocket:
    def __init__(self, sock, blocking=False):
        self._sock = sock
