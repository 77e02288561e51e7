import { UserError } from "../lib/cli/errors.ts";
import { DeviceExecError, WebReplSession } from "../lib/webrepl/session.ts";
import { checkPassword } from "../lib/config/password.ts";
import { GET_CHUNK_BYTES, wawbRequest, WaWbTransfer } from "../lib/webrepl/transfer.ts";
import { WsClient } from "../lib/ws/client.ts";
import { encodeFrame, Opcode } from "../lib/ws/frame.ts";
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";
import { concatBytes } from "../lib/bytes/bytes.ts";
import { memoryPair, ScriptedDevice } from "./helpers/memory_stream.ts";

const ascii = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Connects a client to a scripted device that has already done the upgrade and the login. */
async function loggedIn(device: (peer: ScriptedDevice) => Promise<void>, inactivityMs = 2000) {
  const { client, device: end } = memoryPair();
  const peer = new ScriptedDevice(end);
  const script = (async () => {
    await peer.upgrade();
    await peer.sendText("Password: ");
    assertEquals(await peer.textUntil("\r"), "secret\r");
    // The device answers in pieces: frame boundaries carry no meaning.
    await peer.sendText("\r\nWebREPL");
    await peer.sendText(" connected\r\n>>> ");
    await device(peer);
  })();
  const ws = await WsClient.connect(client);
  const session = await WebReplSession.login(ws, "secret", { inactivityMs });
  return { session, script, peer, client };
}

async function enterRaw(peer: ScriptedDevice): Promise<void> {
  assertEquals(await peer.textUntil("\x01"), "\r\x03\x03\x01");
  await peer.sendText("\r\n>>> \r\n");
  await peer.sendText("raw REPL; CTRL-B to exit\r\n");
  await peer.sendText(">");
}

/**
 * Plays the device side of one raw-paste exec (window 128 as on ESP32); returns the code received. The client
 * may send code (and the end marker) in the same frame as the entry sequence once raw-paste is known to work.
 */
async function rawPaste(peer: ScriptedDevice, stdout: string[], error = ""): Promise<string> {
  let pending = "";
  while (pending.length < 3) pending += text((await peer.frame())!.payload);
  assertEquals(pending.slice(0, 3), "\x05A\x01");
  pending = pending.slice(3);
  await peer.sendText("R\x01");
  await peer.sendText(Uint8Array.of(0x80, 0x00, 0x01));
  let code = "";
  let sinceCredit = 0;
  let credits = 0;
  while (true) {
    const end = pending.indexOf("\x04");
    code += end >= 0 ? pending.slice(0, end) : pending;
    // The device grants two windows up front (the window size, then \x01) and one per \x01 after that.
    assert(code.length <= 256 + 128 * credits, `client sent ${code.length} bytes on ${credits} credits`);
    sinceCredit += end >= 0 ? end : pending.length;
    while (sinceCredit >= 128) {
      sinceCredit -= 128;
      credits++;
      await peer.sendText("\x01");
    }
    if (end >= 0) break;
    const frame = await peer.frame();
    assert(frame !== null && frame.opcode === Opcode.Text);
    assert(frame.payload.length <= 256, `raw-paste chunk of ${frame.payload.length} bytes`);
    pending = text(frame.payload);
  }
  await peer.sendText("\x04");
  for (const chunk of stdout) await peer.sendText(chunk);
  await peer.sendText("\x04");
  if (error) await peer.sendText(error);
  await peer.sendText("\x04>");
  return code;
}

Deno.test("webrepl login: prompt, password with \\r, connected", async () => {
  const { session, script } = await loggedIn(async (peer) => {
    await peer.frame(); // the close frame
    peer.close();
  });
  await session.close();
  await script;
});

Deno.test("webrepl login: wrong password is a one-line UserError", async () => {
  const { client, device } = memoryPair();
  const peer = new ScriptedDevice(device);
  const script = (async () => {
    await peer.upgrade();
    await peer.sendText("Password: ");
    await peer.textUntil("\r");
    await peer.sendText("\r\nAccess denied\r\n");
    peer.close();
  })();
  const ws = await WsClient.connect(client);
  await assertRejects(
    () => WebReplSession.login(ws, "nope"),
    UserError,
    "wrong WebREPL password for 192.168.4.1:8266",
  );
  await script;
});

Deno.test("webrepl login: 101 then close with no prompt means another session is active", async () => {
  const { client, device } = memoryPair();
  const peer = new ScriptedDevice(device);
  const script = (async () => {
    await peer.upgrade();
    peer.close();
  })();
  const ws = await WsClient.connect(client);
  await assertRejects(
    () => WebReplSession.login(ws, "secret"),
    UserError,
    "device busy: another WebREPL session is active",
  );
  await script;
});

Deno.test("webrepl login: a password over 9 characters is refused before connecting", () => {
  checkPassword("123456789");
  let error: unknown;
  try {
    checkPassword("1234567890");
  } catch (e) {
    error = e;
  }
  assert(error instanceof UserError && error.message.includes("at most 9"), String(error));
});

Deno.test("webrepl exec: raw-paste honours the window and returns stdout", async () => {
  const code = `x = ${JSON.stringify("a".repeat(700))}\nprint(len(x))`;
  let received = "";
  let receivedLong = "";
  const { session, script } = await loggedIn(async (peer) => {
    await enterRaw(peer);
    received = await rawPaste(peer, ["70", "0", "\r\n"]);
    // Second exec: already in raw mode; entry, code and end marker arrive in one frame.
    const second = await peer.frame();
    assertEquals(text(second!.payload), "\x05A\x01print('ok')\x04");
    await peer.sendText("R\x01");
    await peer.sendText(Uint8Array.of(0x80, 0x00, 0x01));
    await peer.sendText("\x04ok\n\x04\x04>");
    // A long program after that: the first frame carries a head start, the rest follows the credits.
    receivedLong = await rawPaste(peer, ["done\n"]);
    await peer.frame(); // Ctrl-B on close
    await peer.frame();
    peer.close();
  });
  assertEquals(await session.execText(code), "700\r\n");
  assertEquals(received, code);
  assertEquals(await session.execText("print('ok')"), "ok\n");
  const long = `y = ${JSON.stringify("b".repeat(900))}`;
  assertEquals(await session.execText(long), "done\n");
  assertEquals(receivedLong, long);
  await session.close();
  await script;
});

Deno.test("webrepl exec: without raw-paste, code goes in ≤256-byte chunks and OK is expected", async () => {
  const code = "y = 1\n".repeat(100);
  const { session, script } = await loggedIn(async (peer) => {
    await enterRaw(peer);
    assertEquals(await peer.textUntil("\x05A\x01"), "\x05A\x01");
    await peer.sendText("R\x00");
    let got = "";
    while (true) {
      const frame = await peer.frame();
      assert(frame !== null && frame.payload.length <= 256);
      got += text(frame.payload);
      if (got.endsWith("\x04")) break;
    }
    assertEquals(got, code + "\x04");
    await peer.sendText("OK");
    await peer.sendText("done\n\x04\x04>");
    // The next exec skips the raw-paste probe.
    const second = await peer.frame();
    assertEquals(text(second!.payload), "1");
    assertEquals(text((await peer.frame())!.payload), "\x04");
    await peer.sendText("OK\x04\x04>");
    peer.close();
  });
  assertEquals(await session.execText(code), "done\n");
  assertEquals(await session.execText("1"), "");
  await session.close();
  await script;
});

Deno.test("webrepl exec: a device traceback becomes an error with its last line and errno", async () => {
  const { session, script } = await loggedIn(async (peer) => {
    await enterRaw(peer);
    await rawPaste(
      peer,
      [],
      'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n' +
        "OSError: [Errno 2] ENOENT\r\n",
    );
    peer.close();
  });
  const error = await assertRejects(
    () => session.exec("open('nope')"),
    DeviceExecError,
    "OSError: [Errno 2] ENOENT",
  );
  assertEquals(error.errno, 2);
  assertEquals(error.errnoName, "ENOENT");
  assertEquals(error.message, "device: OSError: [Errno 2] ENOENT");
  await session.close();
  await script;
});

Deno.test("webrepl exec: a concurrent-connection notice inside the reply is dropped", async () => {
  const { session, script } = await loggedIn(async (peer) => {
    await enterRaw(peer);
    await rawPaste(peer, [
      "12",
      "\nConcurrent WebREPL connection from",
      " ('10.0.0.7', 50000)",
      " rejected\n",
      "34\r",
      "\n\r",
      "\nConcurrent WebREPL connection from ('10.0.0.8', 50001) rejected\r\n",
    ]);
    peer.close();
  });
  assertEquals(await session.execText("print(1234)"), "1234\r\n");
  await session.close();
  await script;
});

for (
  const [bytes, code] of [
    ["c100", "WS_ERR_RESERVED_BITS"],
    ["817f0000000000100000", "WS_ERR_PAYLOAD_TOO_BIG"],
    ["8f00", "WS_ERR_INVALID_OPCODE"],
    ["898001020304", "WS_ERR_UNEXPECTED_MASK"],
  ]
) {
  Deno.test(`webrepl exec: a bad device frame (${code}) ends the session with the violation named`, async () => {
    const { session, script } = await loggedIn(async (peer) => {
      await enterRaw(peer);
      await peer.textUntil("\x05A\x01");
      await peer.sendRaw(Uint8Array.fromHex(bytes));
    });
    await assertRejects(
      () => session.exec("1"),
      UserError,
      new RegExp(`^192\\.168\\.4\\.1:8266 sent an invalid WebSocket frame: .*\\(${code}\\)$`),
    );
    await session.close();
    await script;
  });
}

Deno.test("webrepl exec: silence beyond the inactivity timeout is a one-line error naming the device", async () => {
  const { session, script } = await loggedIn(async (peer) => {
    await enterRaw(peer);
    await peer.textUntil("\x05A\x01");
  }, 50);
  await assertRejects(() => session.exec("1"), UserError, "192.168.4.1:8266 did not answer for 0.05 s");
  await session.close();
  await script;
});

Deno.test("webrepl exec: connection lost mid-reply", async () => {
  const { session, script } = await loggedIn(async (peer) => {
    await enterRaw(peer);
    await peer.textUntil("\x05A\x01");
    await peer.sendText(Uint8Array.of(0x52, 0x01, 0x80, 0x00, 0x01));
    await peer.textUntil("\x04");
    await peer.sendText("\x04partial");
    peer.close();
  });
  await assertRejects(() => session.exec("print(1)"), UserError, "connection to 192.168.4.1:8266 lost");
  await session.close();
  await script;
});

Deno.test("wawb: PUT sends the 82-byte header, data frames, and waits for both WB replies", async () => {
  const data = crypto.getRandomValues(new Uint8Array(2500));
  const { session, script } = await loggedIn(async (peer) => {
    const header = await peer.frame();
    assertEquals(header!.opcode, Opcode.Binary);
    assertEquals(header!.payload, wawbRequest(1, "dir/file.bin", 2500));
    assertEquals(header!.payload.subarray(0, 18).toHex(), "574101000000000000000000c40900000c00");
    await peer.sendBinary(ascii("WB\0\0"));
    const chunks: Uint8Array[] = [];
    while (chunks.reduce((n, c) => n + c.length, 0) < 2500) {
      // Stray REPL text during a transfer must be skipped.
      if (chunks.length === 1) await peer.sendText("\nConcurrent WebREPL connection from x rejected\n");
      chunks.push((await peer.frame())!.payload);
    }
    assertEquals(concatBytes(chunks), data);
    await peer.sendBinary(ascii("WB\0\0"));
    peer.close();
  });
  const progress: number[] = [];
  await new WaWbTransfer(session).put("dir/file.bin", data, (done) => progress.push(done));
  assertEquals(progress, [1024, 2048, 2500]);
  await session.close();
  await script;
});

for (const size of [0, 255, 256, 257, 1000]) {
  Deno.test(`wawb: GET of ${size} bytes pipelines exactly the pulls the size needs`, async () => {
    const data = crypto.getRandomValues(new Uint8Array(size));
    const { session, script } = await loggedIn(async (peer) => {
      assertEquals((await peer.frame())!.payload, wawbRequest(2, "f.bin", 0));
      await peer.sendBinary(ascii("WB\0\0"));
      let offset = 0;
      let pulls = 0;
      while (true) {
        const pull = await peer.frame();
        assertEquals(pull!.payload, Uint8Array.of(0));
        pulls++;
        const chunk = data.subarray(offset, offset + GET_CHUNK_BYTES);
        offset += chunk.length;
        await peer.sendBinary(concatBytes([Uint8Array.of(chunk.length & 0xff, chunk.length >> 8), chunk]));
        if (chunk.length === 0) break;
      }
      assertEquals(pulls, Math.ceil(size / GET_CHUNK_BYTES) + 1);
      await peer.sendBinary(ascii("WB\0\0"));
      const after = await peer.frame(); // nothing but the close frame follows: no stray pulls
      assertEquals(after!.opcode, Opcode.Close);
      peer.close();
    });
    const got = await new WaWbTransfer(session, { getPipeline: 3 }).get("f.bin", size);
    assertEquals(got.toHex(), data.toHex());
    await session.close();
    await script;
  });
}

Deno.test("wawb: replies that arrive together are answered with their pulls in one write", async () => {
  const pipeline = 4;
  const data = crypto.getRandomValues(new Uint8Array(16 * GET_CHUNK_BYTES));
  // 16 full chunks, then the empty one that ends the GET.
  const replies = Array.from({ length: 17 }, (_, i) => {
    const chunk = data.subarray(i * GET_CHUNK_BYTES, (i + 1) * GET_CHUNK_BYTES);
    const reply = concatBytes([Uint8Array.of(chunk.length & 0xff, chunk.length >> 8), chunk]);
    return encodeFrame(Opcode.Binary, reply, { mask: false });
  });
  const { session, script, client } = await loggedIn(async (peer) => {
    assertEquals((await peer.frame())!.payload, wawbRequest(2, "f.bin", 0));
    await peer.sendBinary(ascii("WB\0\0"));
    // Take every pull in flight, then answer them all in one write, as one TCP read can deliver them.
    for (let answered = 0; answered < replies.length;) {
      const burst = replies.slice(answered, answered + pipeline);
      for (const _ of burst) assertEquals((await peer.frame())!.payload, Uint8Array.of(0));
      await peer.sendRaw(concatBytes(burst));
      answered += burst.length;
    }
    await peer.sendBinary(ascii("WB\0\0"));
    assertEquals((await peer.frame())!.opcode, Opcode.Close);
    peer.close();
  });
  const before = client.writes.length;
  const got = await new WaWbTransfer(session, { getPipeline: pipeline }).get("f.bin", data.length);
  assertEquals(got.toHex(), data.toHex());
  // A masked pull is 7 bytes on the wire: 17 pulls in 5 writes (4 at the start, then 4, 4, 4 and 1).
  const pullWrites = client.writes.slice(before + 1).filter((bytes) => bytes.length % 7 === 0);
  assertEquals(pullWrites.map((bytes) => bytes.length / 7), [4, 4, 4, 4, 1]);
  await session.close();
  await script;
});

Deno.test("wawb: connection closed mid-GET is reported", async () => {
  const { session, script } = await loggedIn(async (peer) => {
    await peer.frame();
    await peer.sendBinary(ascii("WB\0\0"));
    await peer.frame();
    await peer.sendBinary(concatBytes([Uint8Array.of(0, 1), new Uint8Array(256)]));
    peer.close();
  });
  await assertRejects(
    () => new WaWbTransfer(session).get("big.bin", 5000),
    UserError,
    "connection to 192.168.4.1:8266 lost during GET of big.bin",
  );
  await session.close();
  await script;
});

Deno.test("wawb: GET_VER reads three raw bytes", async () => {
  const { session, script } = await loggedIn(async (peer) => {
    const request = await peer.frame();
    assertEquals(request!.payload[2], 3);
    await peer.sendBinary(Uint8Array.of(1, 27, 0));
    peer.close();
  });
  assertEquals(await new WaWbTransfer(session).version(), [1, 27, 0]);
  await session.close();
  await script;
});

Deno.test("wawb: names over 63 bytes are never truncated", () => {
  let error: unknown;
  try {
    wawbRequest(1, "d/" + "x".repeat(62), 1);
  } catch (e) {
    error = e;
  }
  assert(error instanceof Error && /exceeds 63/.test(error.message));
  assertEquals(wawbRequest(1, "é".repeat(31) + "x", 1)[18 + 62], 0x78);
});
