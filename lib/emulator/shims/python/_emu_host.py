# Synchronous calls from the emulated device's MicroPython to the emulator's main thread (NetHost in
# net_host.ts). One JSON request in, one JSON reply out; errors come back as the exception the port raises.
import json
import _emu_net

_ERRORS = {"OSError": OSError, "ValueError": ValueError, "MemoryError": MemoryError}


def call(op, **args):
    args["op"] = op
    reply = json.loads(_emu_net.call(json.dumps(args)))
    if "error" in reply:
        raise _ERRORS[reply["error"]](*reply["args"])
    return reply.get("result")
