// device/upylog.py and device/upynotify.py in real MicroPython (wasm), with a fake clock, and a fake
// machine.Pin/PWM that records every output change with its time.
import { assertEquals } from "./helpers/assert.ts";
import { WasmMicroPython } from "./helpers/wasm_micropython.ts";

const py = await WasmMicroPython.load();

// ---- upylog ----

const CLOCK = String.raw`
class FakeTime:
    now = [2024, 1, 31, 12, 0, 5, 2, 31]
    def localtime():
        return tuple(FakeTime.now)
import upylog
upylog.time = FakeTime
`;

Deno.test("upylog: 'YYYY-MM-DD HH:MM:SS LEVEL NAME: MESSAGE' lines in /upy.log, printed too; INFO is the default threshold", () => {
  py.fresh();
  py.ok("import os\ntry:\n os.remove('/upy.log')\nexcept OSError:\n pass");
  const out = py.ok(
    `${CLOCK}\nlog = upylog.getLogger('main')\nlog.debug('hidden')\nlog.info('started, %d KB free', 92)\n` +
      "FakeTime.now[5] = 6\nlog.warning('low battery')\nupylog.getLogger().error('x')\nlog.critical('%s!', 'halt')",
  );
  const expected = "2024-01-31 12:00:05 INFO main: started, 92 KB free\n" +
    "2024-01-31 12:00:06 WARNING main: low battery\n" +
    "2024-01-31 12:00:06 ERROR root: x\n" +
    "2024-01-31 12:00:06 CRITICAL main: halt!\n";
  assertEquals(out, expected);
  assertEquals(py.readText("/upy.log"), expected);
});

Deno.test("upylog: basicConfig sets level, file and stream; exception() appends the traceback", () => {
  py.fresh();
  const out = py.ok(
    `${CLOCK}\nupylog.basicConfig(level=upylog.DEBUG, filename='app.log', stream=False)\nlog = upylog.getLogger('app')\n` +
      "log.debug('d')\ntry:\n 1/0\nexcept ZeroDivisionError as e:\n log.exception('failed at %d', e, 3)",
  );
  assertEquals(out, "");
  assertEquals(
    py.readText(`${py.ok("import os\nprint(os.getcwd())").trim()}/app.log`),
    "2024-01-31 12:00:05 DEBUG app: d\n2024-01-31 12:00:05 ERROR app: failed at 3\n" +
      'Traceback (most recent call last):\n  File "<stdin>", line 13, in <module>\nZeroDivisionError: divide by zero\n',
  );
});

Deno.test("upylog: a record that would pass max_bytes first moves the file to .1, replacing the older one", () => {
  const dir = py.fresh();
  // Each record is 42 bytes: two fit under 100, the third rotates.
  py.ok(
    `${CLOCK}\nupylog.basicConfig(filename='r.log', max_bytes=100, stream=False)\nlog = upylog.getLogger('r')\n` +
      "for i in range(7):\n log.info('record %d', i)",
  );
  const line = (i: number) => `2024-01-31 12:00:05 INFO r: record ${i}\n`;
  assertEquals(py.readText(`${dir}/r.log.1`), line(4) + line(5));
  assertEquals(py.readText(`${dir}/r.log`), line(6));
});

Deno.test("upylog: a file that cannot be written costs one printed line, not an exception", () => {
  py.fresh();
  const out = py.ok(
    `${CLOCK}\nupylog.basicConfig(filename='nodir/x.log', stream=False)\nupylog.getLogger('m').error('lost')\nprint('still running')`,
  );
  // 44 is the wasm port's ENOENT; an ESP32 prints "[Errno 2] ENOENT".
  assertEquals(out, "upylog: cannot write nodir/x.log: 44\nstill running\n");
});

// ---- upynotify ----

const PINS = String.raw`
import sys
class Clock:
    ms = 0
class FakeTime:
    def sleep_ms(ms):
        Clock.ms += ms
EVENTS = []
class Pin:
    OUT = 3
    def __init__(self, id, mode=-1):
        self.id = id
        EVENTS.append((Clock.ms, "Pin", id, mode))
    def value(self, v):
        EVENTS.append((Clock.ms, "value", int(v)))
class PWM:
    def __init__(self, pin, freq=0, duty_u16=0):
        EVENTS.append((Clock.ms, "PWM", pin.id, freq, duty_u16))
    def duty_u16(self, d):
        EVENTS.append((Clock.ms, "duty", d))
    def deinit(self):
        EVENTS.append((Clock.ms, "deinit"))
class Machine:
    Pin = Pin
    PWM = PWM
sys.modules["machine"] = Machine
import upynotify
upynotify.time = FakeTime
`;

function notify(code: string): string {
  py.fresh();
  return py.ok(`${PINS}\n${code}\nsys.modules.pop('machine')\nfor e in EVENTS:\n print(e)`);
}

Deno.test("upynotify: blink drives the pin on and off with the given timings and leaves it off", () => {
  assertEquals(
    notify("n = upynotify.Notifier(2)\nn.blink(2, 50, 150)"),
    "(0, 'Pin', 2, 3)\n(0, 'value', 0)\n(0, 'value', 1)\n(50, 'value', 0)\n(200, 'value', 1)\n(250, 'value', 0)\n" +
      "(400, 'value', 0)\n",
  );
});

Deno.test("upynotify: invert=True lights on low; named and explicit patterns; a Pin object is used as is", () => {
  assertEquals(
    notify("n = upynotify.Notifier(Pin(5, Pin.OUT), invert=True)\nn.play('ok')\nn.play((500, 200, 100))"),
    "(0, 'Pin', 5, 3)\n(0, 'value', 1)\n" +
      "(0, 'value', 0)\n(80, 'value', 1)\n(160, 'value', 0)\n(240, 'value', 1)\n" +
      "(240, 'value', 0)\n(740, 'value', 1)\n(940, 'value', 0)\n(1040, 'value', 1)\n",
  );
});

Deno.test("upynotify: a passive buzzer is PWM at the given frequency, half duty while on; deinit releases it", () => {
  assertEquals(
    notify("b = upynotify.Notifier(4, freq=2000)\nb.blink()\nb.deinit()"),
    "(0, 'Pin', 4, 3)\n(0, 'PWM', 4, 2000, 0)\n(0, 'duty', 0)\n(0, 'duty', 32768)\n(100, 'duty', 0)\n" +
      "(200, 'duty', 0)\n(200, 'duty', 0)\n(200, 'deinit')\n",
  );
});

Deno.test("upynotify: an interrupted pattern still leaves the output off", () => {
  assertEquals(
    notify(
      "n = upynotify.Notifier(2)\ndef stop(ms):\n raise KeyboardInterrupt\nFakeTime.sleep_ms = stop\n" +
        "try:\n n.play('sos')\nexcept KeyboardInterrupt:\n pass",
    ),
    "(0, 'Pin', 2, 3)\n(0, 'value', 0)\n(0, 'value', 1)\n(0, 'value', 0)\n",
  );
});
