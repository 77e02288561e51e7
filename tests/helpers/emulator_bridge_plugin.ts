/** A Worker plugin for emulator_bridge_test.ts: Python functions that call main-thread handlers synchronously. */
import type { WorkerPluginContext } from "../../lib/emulator/worker.ts";

export function install(context: WorkerPluginContext): void {
  context.mp.registerJsModule("_bridge_test", {
    upper: (text: string) => context.callHost("upper", text),
    big_digest: (size: number) => {
      const bytes = context.callHost("big", size) as Uint8Array;
      let sum = 0;
      for (const byte of bytes) sum = (sum * 31 + byte) % 1000003;
      return `${bytes.length}:${sum}`;
    },
    // A JS exception escaping into Python cannot be caught there (it aborts the whole run), so the plugin
    // turns handler errors into values and the Python side raises.
    fail: () => {
      try {
        return context.callHost("fail", null);
      } catch (error) {
        return `error: ${(error as Error).message}`;
      }
    },
  });
  context.addPythonModule(
    "bridged",
    `import _bridge_test


def shout(s):
    return _bridge_test.upper(s) + "!"


def fail():
    result = _bridge_test.fail()
    if isinstance(result, str) and result.startswith("error: "):
        raise OSError(result[7:])
`,
  );
  context.onHostMessage((data) => context.deviceWrite(new TextEncoder().encode(`host says ${data}\r\n`)));
}
