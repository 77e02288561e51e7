# hashlib as on ESP32: the wasm port's hashlib has sha256 only, but the device's has sha1, which
# wss_helper.py needs for the WebSocket accept key. Installed over the built-in at boot.
from hashlib import *
import sys
import _emu_sha1


class sha1:
    def __init__(self, data=b""):
        self._data = bytearray(data)

    def update(self, data):
        self._data.extend(data)

    def digest(self):
        return bytes(_emu_sha1.digest(self._data))


sys.modules["hashlib"] = sys.modules["_emu_hashlib"]
__name__ = "hashlib"
