# os.dupterm and os.dupterm_notify for the emulated device (the wasm port has neither). Attaching a
# _webrepl object hands its connection to the emulator's TypeScript WebREPL session; a session that the
# client has ended no longer counts as attached, as on a device where the EOF deactivates the dupterm.
from _emu_host import call
import _webrepl

_term = None


def dupterm(obj=None, index=0):
    global _term
    prev = _term
    if prev is not None and not call("attached", id=prev._sock._id):
        prev = None
    if obj is not None:
        if not isinstance(obj, _webrepl._webrepl):
            raise ValueError("the emulator attaches only _webrepl streams")
        call("attach", id=obj._sock._id)
    _term = obj
    return prev


def dupterm_notify(obj):
    pass


# The emulator's os replacement (identity.ts: the module _emu_os, which becomes sys.modules["os"] once every
# module is imported) takes new attributes, unlike the built-in os.
_os = __import__("_emu_os")
_os.dupterm = dupterm
_os.dupterm_notify = dupterm_notify
