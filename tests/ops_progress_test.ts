import { recordingIo } from "../lib/ui/io.ts";
import { ProgressBar } from "../lib/ui/progress.ts";
import { assertEquals } from "./helpers/assert.ts";

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

Deno.test("progress: silent for transfers under a second", () => {
  const time = clock();
  const io = recordingIo({ stdoutIsTerminal: true, now: time.now });
  const bar = new ProgressBar(io, "put a.bin", { width: 10 });
  time.advance(900);
  bar.update(2048, 2048);
  bar.finish(2048, 2048);
  assertEquals(io.stdout, "");
});

Deno.test("progress: draws bar, percent, bytes and KB/s after a second, throttled, then ends the line", () => {
  const time = clock();
  const io = recordingIo({ stdoutIsTerminal: true, now: time.now });
  const bar = new ProgressBar(io, "get b.bin", { width: 10 });
  time.advance(1000);
  bar.update(5120, 20480);
  time.advance(50);
  bar.update(6144, 20480); // within the redraw interval: skipped
  time.advance(1000);
  bar.finish(20480, 20480);
  assertEquals(
    io.stdout,
    "\rget b.bin [###-------]  25% 5.0 KB 5.0 KB/s\x1b[K" +
      "\rget b.bin [##########] 100% 20.0 KB 9.8 KB/s\x1b[K\n",
  );
});

Deno.test("progress: nothing when stdout is not a terminal", () => {
  const time = clock();
  const io = recordingIo({ stdoutIsTerminal: false, now: time.now });
  const bar = new ProgressBar(io, "put", { width: 10 });
  time.advance(5000);
  bar.update(1, 2);
  bar.finish(2, 2);
  assertEquals(io.stdout, "");
});
