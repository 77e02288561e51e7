/** The emulated device's REPL over WebREPL: ESP32 identity, raw REPL, raw-paste flow control, resets, time limit. */
import { assert, assertEquals } from "./helpers/assert.ts";
import { encoder, latin1, PASSWORD, WireClient, withSession } from "./helpers/emulator_wire.ts";

/** Sends a friendly-REPL line and returns what came back after the echo, up to the next prompt. */
async function evaluate(client: WireClient, line: string): Promise<string> {
  await client.sendText(`${line}\r`);
  const text = await client.readText(">>> ");
  return text.slice(line.length + 2, -4);
}

Deno.test("identity: sys.platform, sys.path, os.uname, machine.unique_id, gc.mem_free, the banner", async () => {
  await withSession(async (client) => {
    assertEquals(await evaluate(client, "import sys; sys.platform"), "'esp32'\r\n");
    // As on ESP32 firmware since v1.22.
    assertEquals(await evaluate(client, "sys.path"), "['', '.frozen', '/lib']\r\n");
    assertEquals(await evaluate(client, "import os; os.uname().sysname"), "'esp32'\r\n");
    assertEquals(
      await evaluate(client, "os.uname().machine"),
      "'Generic ESP32 module with ESP32'\r\n",
    );
    assertEquals(await evaluate(client, "import machine; machine.unique_id().hex()"), "'240ac4a1b2c3'\r\n");
    assertEquals(await evaluate(client, "import gc; 0 < gc.mem_free() < 2 * 1024 * 1024"), "True\r\n");
    assertEquals(
      await evaluate(client, "import network; network.WLAN(network.STA_IF).isconnected()"),
      "True\r\n",
    );
    assertEquals(await evaluate(client, "[len(e) for e in os.ilistdir('/')]"), "[4]\r\n");
    await client.sendText("\x02");
    assertEquals(
      await client.readText(">>> "),
      "\r\nMicroPython v1.27.0 on 2025-12-10; Generic ESP32 module with ESP32\r\n" +
        'Type "help()" for more information.\r\n>>> ',
    );
  }, { uniqueId: new Uint8Array([0x24, 0x0a, 0xc4, 0xa1, 0xb2, 0xc3]) });
});

Deno.test("raw REPL: OK, output, \\x04, error, \\x04, > as on the device", async () => {
  await withSession(async (client) => {
    await client.sendText("\x01");
    assertEquals(await client.readText(">"), "\r\nraw REPL; CTRL-B to exit\r\n>");
    await client.sendText("print(6*7)\x04");
    assertEquals(await client.readText(">"), "OK42\r\n\x04\x04>");
    await client.sendText("1/0\x04");
    const error = await client.readText("\x04>");
    assert(error.startsWith("OK\x04Traceback"), JSON.stringify(error));
    assert(error.endsWith("ZeroDivisionError: divide by zero\r\n\x04>"), JSON.stringify(error));
  });
});

Deno.test("raw-paste: R\\x01 + window 128 + credit, \\x01 per 128 bytes, then the raw-REPL reply", async () => {
  await withSession(async (client) => {
    await client.sendText("\x01");
    await client.readText(">");
    await client.sendText("\x05A\x01");
    assertEquals(latin1((await client.readFrame())!.payload), "R\x01");
    assertEquals([...(await client.readFrame())!.payload], [128, 0, 1]);
    // 600 bytes of code, sent only as the device grants window (as mpremote does).
    const code = encoder.encode(`x = ${JSON.stringify("a".repeat(580))}\nprint(len(x))`);
    let window = 128 + 128;
    let sent = 0;
    let credits = 0;
    while (sent < code.length) {
      if (window === 0) {
        const credit = (await client.readFrame())!;
        assertEquals([...credit.payload], [1], "only credit bytes arrive during the paste");
        credits++;
        window += 128;
        continue;
      }
      const piece = code.subarray(sent, sent + Math.min(window, 100));
      await client.sendText(latin1(piece));
      sent += piece.length;
      window -= piece.length;
    }
    await client.sendText("\x04");
    const rest = await client.readText(">");
    let trailingCredits = 0;
    while (rest.charCodeAt(trailingCredits) === 1) trailingCredits++;
    assertEquals(credits + trailingCredits, Math.floor(code.length / 128), "one credit per 128 bytes");
    assertEquals(rest.slice(trailingCredits), "\x04580\r\n\x04\x04>");
  });
});

Deno.test("raw-paste: an unknown variant is refused with R\\x00", async () => {
  await withSession(async (client) => {
    await client.sendText("\x01");
    await client.readText(">");
    await client.sendText("\x05B\x01");
    assertEquals(await client.readText(">"), "R\x00>");
    await client.sendText("print(1)\x04");
    assertEquals(await client.readText(">"), "OK1\r\n\x04\x04>");
  });
});

Deno.test("soft reset: MPY: soft reboot, the connection drops, boot.py runs again with fresh state", async () => {
  await withSession(async (client, emu) => {
    await emu.runPython("f = open('boot.py', 'w')\nf.write('booted = 42\\n')\nf.close()");
    await evaluate(client, "leftover = 1");
    await client.sendText("\x04");
    const frames = await client.readFramesToEnd();
    assertEquals(frames.map((frame) => latin1(frame.payload)).join(""), "\r\nMPY: soft reboot\r\n");
    const again = await WireClient.login(emu.port, PASSWORD);
    try {
      assertEquals(await evaluate(again, "booted, 'leftover' in globals()"), "(42, False)\r\n");
    } finally {
      again.close();
    }
  });
});

Deno.test("time limit: code that never returns is reported, the device restarts, the flash survives", async () => {
  const lines: string[] = [];
  await withSession(async (client, emu) => {
    await emu.runPython("f = open('kept.txt', 'w')\nf.write('yes')\nf.close()");
    await client.sendText("while True: pass\r\r");
    const frames = await client.readFramesToEnd();
    const text = frames.map((frame) => latin1(frame.payload)).join("");
    assert(text.includes("[emulator] code ran over 1.5 s and cannot be interrupted"), JSON.stringify(text));
    const again = await WireClient.login(emu.port, PASSWORD);
    try {
      assertEquals(await evaluate(again, "open('kept.txt').read()"), "'yes'\r\n");
    } finally {
      again.close();
    }
  }, { execTimeoutMs: 1500, log: (line) => lines.push(line) });
  assert(lines.some((line) => line.includes("cannot be interrupted")), "the console reports the restart");
});

Deno.test("Ctrl-C during a busy loop restarts the device within a second and says why", async () => {
  await withSession(async (client, emu) => {
    await client.sendText("while True: pass\r\r");
    await client.sendText("\x03");
    const text = (await client.readFramesToEnd()).map((frame) => latin1(frame.payload)).join("");
    assert(text.includes("[emulator] Ctrl-C cannot interrupt running code in wasm"), JSON.stringify(text));
    const again = await WireClient.login(emu.port, PASSWORD);
    again.close();
  }, { execTimeoutMs: 60_000 });
});

Deno.test("Ctrl-C during a loop that sleeps or prints raises KeyboardInterrupt, as on ESP32; the session goes on", async () => {
  await withSession(async (client) => {
    await evaluate(client, "marker = 1");
    await evaluate(client, "import time");
    // A loop that only computes and prints reaches JS through print alone.
    for (const body of ["time.sleep_ms(20)", "print('tick'); sum(range(20000))"]) {
      await client.sendText(`while True: ${body}\r\r`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.sendText("\x03");
      const text = await client.readText("KeyboardInterrupt: \r\n>>> ");
      assert(!text.includes("[emulator]"), "no restart");
      // The Ctrl-C was caught on arrival: no second prompt follows, and Python state survives.
      assertEquals(await evaluate(client, "marker"), "1\r\n");
    }
  }, { execTimeoutMs: 60_000 });
});

Deno.test("imports look in the working directory first, then /lib, as on ESP32", async () => {
  await withSession(async (client) => {
    await evaluate(client, "import os; os.mkdir('/app'); os.mkdir('/lib')");
    await evaluate(client, "open('/app/helper.py', 'w').write('X = 5')");
    await evaluate(client, "open('/lib/shared.py', 'w').write('Y = 6')");
    await evaluate(client, "open('/top.py', 'w').write('Z = 7')");
    await evaluate(client, "os.chdir('/app')");
    assertEquals(await evaluate(client, "import helper, shared; print(helper.X, shared.Y)"), "5 6\r\n");
    // / is not on sys.path: from /app, a module in / is not found.
    assertEquals(
      await evaluate(client, "import top"),
      'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n' +
        "ImportError: no module named 'top'\r\n",
    );
  });
});

Deno.test("machine.reset() drops the connection and the device comes back", async () => {
  await withSession(async (client, emu) => {
    await evaluate(client, "marker = 1");
    await client.sendText("import machine; machine.reset()\r");
    const text = (await client.readFramesToEnd()).map((frame) => latin1(frame.payload)).join("");
    assertEquals(text, "import machine; machine.reset()\r\n");
    const again = await WireClient.login(emu.port, PASSWORD);
    try {
      assertEquals(await evaluate(again, "'marker' in globals()"), "False\r\n");
    } finally {
      again.close();
    }
  });
});

Deno.test("a boot.py that never returns: the device restarts once without it (safe boot)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upydev-emu-boot-" });
  const lines: string[] = [];
  try {
    await Deno.writeTextFile(`${dir}/boot.py`, "while True:\n    pass\n");
    await withSession(async (client) => {
      assertEquals(await evaluate(client, "1+1"), "2\r\n");
    }, { flashDir: dir, execTimeoutMs: 1500, log: (line) => lines.push(line) });
    assert(lines.some((line) => line.includes("boot.py overran")), lines.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("raw-paste: an empty paste runs nothing and does not soft-reset", async () => {
  await withSession(async (client) => {
    await client.sendText("\x01");
    await client.readText(">");
    await client.sendText("\x05A\x01");
    await client.readFrame();
    await client.readFrame();
    await client.sendText("\x04");
    assertEquals(await client.readText(">"), "\x04\x04\x04>");
    await client.sendText("print('still here')\x04");
    assertEquals(await client.readText("\x04>"), "OKstill here\r\n\x04\x04>");
  });
});

Deno.test("stdin buffer: an unpaced burst over 260 bytes loses the excess silently, as on ESP32", async () => {
  const lines: string[] = [];
  await withSession(async (client) => {
    await client.sendText("#".repeat(300));
    await client.sendText("\x03");
    const text = await client.readText(">>> ");
    assertEquals(text.split("#").length - 1, 260, "only the buffer's worth of bytes reached the REPL");
    // Paced input (waiting for the echo) is not affected.
    await client.sendText("x = '" + "a".repeat(200));
    await client.readText("a".repeat(200));
    await client.sendText("a".repeat(200) + "'\r");
    await client.readText(">>> ");
    assertEquals(await evaluate(client, "len(x)"), "400\r\n");
  }, { log: (line) => lines.push(line) });
  assertEquals(lines.filter((line) => line.includes("stdin buffer overflow")), [
    "stdin buffer overflow: 40 input bytes dropped",
  ]);
});

Deno.test("output is cooked like ESP32: each \\n of print/sys.stdout.write is its own \\r\\n write", async () => {
  await withSession(async (client) => {
    await client.sendText("\x01");
    await client.readText(">");
    await client.sendText("print('p\\nq'); import sys; sys.stdout.buffer.write(b'r\\ns')\x04");
    const payloads: string[] = [];
    while (!payloads.join("").endsWith("\x04>")) payloads.push(latin1((await client.readFrame())!.payload));
    assertEquals(payloads, ["OK", "p", "\r\n", "q", "\r\n", "r\ns", "\x04", "\x04", ">"]);
  });
});
