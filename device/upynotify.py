# upynotify: LED and buzzer signals on a machine.Pin (upydev's device utilities, MicroPython 1.22+).
#   from upynotify import Notifier
#   led = Notifier(2)                  an LED on GPIO 2 (or a machine.Pin), lit while the pin is high
#   led = Notifier(2, invert=True)     lit while low, like many boards' built-in LEDs
#   led.blink(3)                       3 x (100 ms on, 100 ms off); blink(times, on_ms, off_ms)
#   led.play('ok')                     a named pattern from PATTERNS: ok, warning, error, sos
#   led.play((500, 200, 100))          durations in ms, alternately on and off, starting with on
#   led.on()  led.off()
#   buzzer = Notifier(4, freq=2000)    a passive buzzer: PWM at 2 kHz, half duty, while "on"
# An active buzzer is driven like an LED. play() leaves the output off, even when interrupted.
import machine
import time

PATTERNS = {
    "ok": (80, 80, 80),
    "warning": (300, 300, 300, 300, 300),
    "error": (800, 200, 800, 200, 800),
    "sos": (100, 100, 100, 100, 100, 300, 300, 100, 300, 100, 300, 300, 100, 100, 100, 100, 100),
}


class Notifier:
    def __init__(self, pin, invert=False, freq=None):
        self._pin = machine.Pin(pin, machine.Pin.OUT) if isinstance(pin, int) else pin
        self._invert = invert
        self._pwm = machine.PWM(self._pin, freq=freq, duty_u16=0) if freq else None
        self.off()

    def on(self):
        if self._pwm:
            self._pwm.duty_u16(32768)
        else:
            self._pin.value(not self._invert)

    def off(self):
        if self._pwm:
            self._pwm.duty_u16(0)
        else:
            self._pin.value(self._invert)

    def play(self, pattern):
        if isinstance(pattern, str):
            pattern = PATTERNS[pattern]
        try:
            for i, ms in enumerate(pattern):
                if i & 1:
                    self.off()
                else:
                    self.on()
                time.sleep_ms(ms)
        finally:
            self.off()

    def blink(self, times=1, on_ms=100, off_ms=100):
        self.play((on_ms, off_ms) * times)

    def deinit(self):
        self.off()
        if self._pwm:
            self._pwm.deinit()
