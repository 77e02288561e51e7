/**
 * Hostile and broken devices (issue 9, item 2) played by the fake device against the real client and CLI.
 * Each case must end in one line naming the cause, a non-zero exit, and bounded time: the bounds are injected
 * small, so every case settles in well under a second.
 */
import "npm:reflect-metadata@0.2.2";
import { runCli } from "../lib/cli/run.ts";
import { deviceActionCommands } from "../lib/actions/table.ts";
import { openDevice, type OpenDeviceOptions } from "../lib/device/connect.ts";
import { LinkError } from "../lib/transport/link_error.ts";
import { recordingIo } from "../lib/ui/io.ts";
import { WaWbTransfer } from "../lib/webrepl/transfer.ts";
import { Opcode } from "../lib/ws/frame.ts";
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";
import {
  FAKE_PASSWORD,
  type FakeDevice,
  fakeDevice,
  login,
  sendResult,
  serveRawRepl,
  textFrame,
  within,
} from "./helpers/fake_device.ts";
import type { ScriptedDevice } from "./helpers/memory_stream.ts";

const FAST: OpenDeviceOptions = { connectTimeoutMs: 2000, inactivityMs: 1000, answerMs: 400 };
/** Every case must settle long before this; a hang fails the test instead of stalling the suite. */
const HANG_MS = 5000;

async function cli(device: FakeDevice, args: string[], connect: OpenDeviceOptions = FAST) {
  const dir = await Deno.makeTempDir({ prefix: "upydev-hostile-" });
  try {
    const io = recordingIo({ cwd: dir, env: { HOME: dir, XDG_CONFIG_HOME: `${dir}/config` } });
    const code = await within(
      runCli([...args, ...device.args], io, deviceActionCommands({ connect })),
      HANG_MS,
      `upydev ${args.join(" ")}`,
    );
    return { code, stdout: io.stdout, stderr: io.stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function open(device: FakeDevice, options: OpenDeviceOptions = FAST) {
  return openDevice(
    { host: "127.0.0.1", port: device.port, password: FAKE_PASSWORD, secure: false },
    options,
  );
}

/** Sends `make()` every `ms` until the client is gone. */
async function dribble(ms: number, make: () => Promise<void>): Promise<void> {
  try {
    while (true) {
      await make();
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  } catch {
    // The client hung up: the point of the exercise.
  }
}

/** Reads client frames until the client closes, so a script never ends the connection first. */
async function drain(peer: ScriptedDevice): Promise<void> {
  try {
    while ((await peer.frame()) !== null);
  } catch {
    // Reset by the client.
  }
}

function assertOneLine(result: { code: number; stderr: string }, expected: string): void {
  assertEquals(result.code, 1, result.stderr);
  assertEquals(result.stderr, `upydev: ${expected}\n`);
}

// ---- overall deadlines --------------------------------------------------------------------------------------

Deno.test("hostile device: a junk byte at a time cannot hold the login past its overall bound", async () => {
  const device = fakeDevice(async (peer) => {
    await peer.upgrade();
    await dribble(50, () => peer.sendText("x"));
  });
  try {
    const result = await cli(device, ["exec", "print(1)"]);
    assertOneLine(result, `127.0.0.1:${device.port} did not finish sending the password prompt within 0.4 s`);
  } finally {
    await device.finish();
  }
});

Deno.test("hostile device: junk instead of the raw REPL banner ends the operation; the session is failed", async () => {
  const device = fakeDevice(async (peer) => {
    await login(peer);
    await peer.frame(); // the raw REPL entry
    await dribble(50, () => peer.sendText("x"));
  });
  try {
    const connection = await open(device);
    try {
      const expected = `127.0.0.1:${device.port} did not finish sending the raw REPL banner within 0.4 s`;
      const error = await assertRejects(
        () => within(connection.session.exec("print(1)"), HANG_MS, "exec"),
        LinkError,
      );
      assertEquals([error.code, error.message], ["LINK_DEADLINE", expected]);
      assertEquals(connection.session.state, "failed");
      const again = await assertRejects(() => connection.session.exec("print(2)"), LinkError);
      assertEquals(again.code, "LINK_UNUSABLE");
      assertEquals(
        again.message,
        `connection to 127.0.0.1:${device.port} is unusable after an earlier failure (${expected}); reconnect`,
      );
    } finally {
      await connection.close();
    }
  } finally {
    await device.finish();
  }
});

Deno.test("hostile device: text frames during a GET do not extend the wait for the file-protocol reply", async () => {
  const device = fakeDevice(async (peer) => {
    await login(peer);
    await peer.frame(); // the GET request
    await dribble(50, () => peer.sendText("x"));
  });
  try {
    const connection = await open(device);
    try {
      const error = await assertRejects(
        () => within(new WaWbTransfer(connection.session).get("/f.bin", 10), HANG_MS, "get"),
        LinkError,
      );
      assertEquals(
        error.message,
        `127.0.0.1:${device.port} did not finish sending GET of /f.bin within 0.4 s`,
      );
    } finally {
      await connection.close();
    }
  } finally {
    await device.finish();
  }
});

// ---- memory -------------------------------------------------------------------------------------------------

Deno.test("hostile device: exec output kept in memory is bounded; streamed output is not kept", async () => {
  const big = "y".repeat(5000);
  const device = fakeDevice(async (peer) => {
    await login(peer);
    await serveRawRepl(peer, (_code, peer) => sendResult(peer, big));
  });
  try {
    const streamed = await open(device, { ...FAST, maxAnswerBytes: 1000 });
    try {
      let seen = 0;
      const result = await streamed.session.execRaw("print('y'*5000)", {
        onStdout: (bytes) => seen += bytes.length,
      });
      assertEquals([seen, result.stdout.length], [5000, 0]);
      const error = await assertRejects(() => streamed.session.exec("print('y'*5000)"), LinkError);
      assertEquals(
        [error.code, error.message],
        ["LINK_TOO_MUCH_DATA", `127.0.0.1:${device.port} sent more than 1000 bytes of program output`],
      );
    } finally {
      await streamed.close();
    }
  } finally {
    await device.finish();
  }
});

Deno.test("hostile device: a GET is pulled no further than the size announced", async () => {
  let pulls = 0;
  const device = fakeDevice(async (peer) => {
    await login(peer);
    await peer.frame(); // the GET request
    await peer.sendBinary(Uint8Array.of(0x57, 0x42, 0, 0));
    const chunk = new Uint8Array(258);
    chunk[0] = 0x00;
    chunk[1] = 0x01; // 256 bytes, forever
    while (true) {
      const frame = await peer.frame().catch(() => null);
      if (frame === null || frame.opcode !== Opcode.Binary) return;
      pulls++;
      await peer.sendBinary(chunk).catch(() => {});
    }
  });
  try {
    const connection = await open(device);
    try {
      const error = await assertRejects(
        () => within(new WaWbTransfer(connection.session).get("/grows.bin", 300), HANG_MS, "get"),
        LinkError,
      );
      assertEquals(
        error.message,
        `/grows.bin changed size during the transfer from 127.0.0.1:${device.port}; reconnect and retry`,
      );
      assertEquals(connection.session.state, "failed");
    } finally {
      await connection.close();
    }
  } finally {
    await device.finish();
  }
  assert(pulls <= 3, `${pulls} pulls for a 300-byte file`);
});

// ---- protocol violations, right after the 101 reply or later ------------------------------------------------

const VIOLATIONS: [string, string, string][] = [
  ["a 2^63 payload length", "827f8000000000000000", "WS_ERR_PAYLOAD_TOO_BIG"],
  ["a 100 MB frame", "827f0000000005f5e100", "WS_ERR_PAYLOAD_TOO_BIG"],
  ["a masked server frame", "818501020304696b6b6b6b", "WS_ERR_UNEXPECTED_MASK"],
  ["a control frame over 125 bytes", "897e0080", "WS_ERR_CONTROL_FRAME_TOO_BIG"],
  ["RSV bits", "c100", "WS_ERR_RESERVED_BITS"],
  ["a bad opcode", "8300", "WS_ERR_INVALID_OPCODE"],
];

for (const [name, hex, code] of VIOLATIONS) {
  Deno.test(`hostile device: ${name} gets the same clear error in the 101 read as later`, async () => {
    const bytes = Uint8Array.fromHex(hex);
    const device = fakeDevice(async (peer, connection) => {
      if (connection === 0) {
        await peer.upgrade(bytes);
      } else {
        await peer.upgrade();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await peer.sendRaw(bytes);
      }
      await drain(peer);
    });
    try {
      const inUpgrade = await cli(device, ["exec", "print(1)"]);
      const later = await cli(device, ["exec", "print(1)"]);
      assertEquals(inUpgrade.code, 1, inUpgrade.stderr);
      assert(inUpgrade.stderr.includes(`sent an invalid WebSocket frame:`), inUpgrade.stderr);
      assert(inUpgrade.stderr.endsWith(`(${code})\n`), inUpgrade.stderr);
      assertEquals(later, inUpgrade);
    } finally {
      await device.finish();
    }
  });
}

Deno.test("hostile device: a frame cut off by the end of the stream says so, at login and later", async () => {
  const device = fakeDevice(async (peer, connection) => {
    if (connection === 0) {
      await peer.upgrade(textFrame("Password: ").subarray(0, 5));
      return;
    }
    await login(peer);
    await peer.frame(); // the raw REPL entry
    await peer.sendRaw(textFrame("raw REPL; CTRL-B to exit\r\n>").subarray(0, 9));
  });
  try {
    assertOneLine(
      await cli(device, ["exec", "print(1)"]),
      `connection to 127.0.0.1:${device.port} lost mid-frame while waiting for the password prompt`,
    );
    assertOneLine(
      await cli(device, ["exec", "print(1)"]),
      `connection to 127.0.0.1:${device.port} lost mid-frame while waiting for the raw REPL banner`,
    );
  } finally {
    await device.finish();
  }
});

// ---- replies of an unexpected shape -------------------------------------------------------------------------

Deno.test("hostile device: JSON replies of the wrong shape are one-line errors for info, ls and df", async () => {
  const cases: [string[], (code: string) => string, string][] = [
    [["info"], () => "[]", "unexpected answer from the device for info (not an object)"],
    [["info"], () => '{"platform": 5}', "unexpected answer from the device for info ('platform')"],
    [["info"], () => "nonsense", 'unexpected answer from the device for info: "nonsense"'],
    [
      ["ls", "/"],
      (code) => code.includes("ilistdir") ? "[[1, true, 0]]" : "[[true, 0]]",
      "unexpected answer from the device for ls ([0][0] not a string)",
    ],
    [["ls", "/"], () => '{"a": 1}', "unexpected answer from the device for stat (not a list)"],
    [["df"], () => "[4096, 10]", "unexpected answer from the device for df (not a list of 3)"],
  ];
  for (const [args, reply, expected] of cases) {
    const device = fakeDevice(async (peer) => {
      await login(peer);
      await serveRawRepl(peer, (code, peer) => sendResult(peer, reply(code) + "\r\n"));
    });
    try {
      assertOneLine(await cli(device, args), expected);
    } finally {
      await device.finish();
    }
  }
});

// ---- the concurrent-connection notice -----------------------------------------------------------------------

Deno.test("hostile device: a concurrent-connection notice of any length is removed and the session stays in step", async () => {
  const address = `('fe80::1234:5678:9abc:def0%${"wlan".repeat(60)}', 8266)`;
  // In pieces, in separate reads, as print() writes it.
  const notice = async (peer: ScriptedDevice) => {
    for (const piece of ["\r\nConcurrent WebREPL connection from ", address, " rejected\r\n"]) {
      await peer.sendText(piece);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const device = fakeDevice(async (peer) => {
    await login(peer);
    await serveRawRepl(peer, async (_code, peer) => {
      await peer.sendText("4");
      await notice(peer);
      await sendResult(peer, "2\r\n");
    }, {
      async rawPasteAnswer(peer) {
        await notice(peer);
        await peer.sendText("R\x00");
      },
    });
  });
  try {
    const connection = await open(device);
    try {
      assertEquals(await connection.session.execText("print(42)"), "42\r\n");
      assertEquals(await connection.session.execText("print(42)"), "42\r\n");
    } finally {
      await connection.close();
    }
  } finally {
    await device.finish();
  }
});
