/** The emulator's WebREPL server against hand-built wire bytes: upgrade, login, framing, one client at a time. */
import { assert, assertEquals } from "./helpers/assert.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import {
  buildFrame,
  decoder,
  encoder,
  latin1,
  UPGRADE_REQUEST,
  WireClient,
} from "./helpers/emulator_wire.ts";

const PASSWORD = "secret";

async function withEmulator(body: (port: number) => Promise<void>): Promise<void> {
  const emu = await startEmulator({ password: PASSWORD, port: 0 });
  try {
    await body(emu.port);
  } finally {
    await emu.close();
  }
}

Deno.test("upgrade: exact 101 with the RFC 6455 accept key, then an unmasked FIN text 'Password: '", async () => {
  await withEmulator(async (port) => {
    const client = await WireClient.connect(port);
    try {
      await client.write(encoder.encode(UPGRADE_REQUEST));
      assertEquals(
        await client.readHttpHead(),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      );
      const frame = await client.readFrame();
      assertEquals(frame, { fin: true, masked: false, opcode: 1, payload: encoder.encode("Password: ") });
    } finally {
      client.close();
    }
  });
});

Deno.test("upgrade: lowercase header names get HTTP/1.0 200 and the HTML stub, then close", async () => {
  await withEmulator(async (port) => {
    const client = await WireClient.connect(port);
    try {
      await client.write(
        encoder.encode(UPGRADE_REQUEST.toLowerCase().replace("get / http/1.1", "GET / HTTP/1.1")),
      );
      const reply = decoder.decode(await client.readAll());
      assertEquals(
        reply,
        'HTTP/1.0 200 OK\r\n\r\n<base href="https://micropython.org/webrepl/"></base>\r\n' +
          '<script src="webrepl_content.js"></script>\r\n',
      );
    } finally {
      client.close();
    }
  });
});

Deno.test("upgrade: a header line without ':' drops the connection with no reply", async () => {
  await withEmulator(async (port) => {
    const client = await WireClient.connect(port);
    try {
      await client.write(encoder.encode("GET / HTTP/1.1\r\nbogus line\r\n\r\n"));
      assertEquals((await client.readAll()).length, 0);
    } finally {
      client.close();
    }
  });
});

Deno.test("login: right password connects, REPL echo comes one char per frame", async () => {
  await withEmulator(async (port) => {
    const client = await WireClient.login(port, PASSWORD);
    try {
      await client.sendText("1+1\r");
      const payloads: string[] = [];
      while (!payloads.join("").endsWith(">>> ")) {
        const frame = (await client.readFrame())!;
        assertEquals(frame.opcode, 1);
        assert(!frame.masked && frame.fin, "device frames are unmasked FIN frames");
        payloads.push(latin1(frame.payload));
      }
      assertEquals(payloads, ["1", "+", "1", "\r\n", "2", "\r\n", ">>> "]);
    } finally {
      client.close();
    }
  });
});

Deno.test("login: wrong password gets Access denied and the connection closes", async () => {
  await withEmulator(async (port) => {
    const client = await WireClient.open(port);
    try {
      await client.readText("Password: ");
      await client.sendText("wrong\r");
      const frames = await client.readFramesToEnd();
      assertEquals(frames.map((frame) => latin1(frame.payload)), ["\r\nAccess denied\r\n"]);
    } finally {
      client.close();
    }
  });
});

Deno.test("login: only the first 10 typed bytes count, and unmasked client frames are accepted", async () => {
  const emu = await startEmulator({ password: "123456789", port: 0 });
  try {
    const long = await WireClient.open(emu.port);
    await long.readText("Password: ");
    await long.write(buildFrame(1, encoder.encode("123456789XYZ\r"), false));
    assertEquals(latin1((await long.readFramesToEnd())[0].payload), "\r\nAccess denied\r\n");
    long.close();

    const ok = await WireClient.open(emu.port);
    await ok.readText("Password: ");
    await ok.write(buildFrame(2, encoder.encode("123456789\r"), false));
    assertEquals(await ok.readText(">>> "), "\r\nWebREPL connected\r\n>>> ");
    ok.close();
  } finally {
    await emu.close();
  }
});

Deno.test("busy: a second client gets 101 then close; the first sees the rejection in its REPL", async () => {
  await withEmulator(async (port) => {
    const first = await WireClient.login(port, PASSWORD);
    const second = await WireClient.connect(port);
    try {
      await second.write(encoder.encode(UPGRADE_REQUEST));
      assert((await second.readHttpHead()).startsWith("HTTP/1.1 101 "), "second client is upgraded first");
      assertEquals((await second.readAll()).length, 0);
      const localPort = (second.conn.localAddr as Deno.NetAddr).port;
      assertEquals(
        await first.readText("rejected\r\n"),
        `\r\nConcurrent WebREPL connection from ('127.0.0.1', ${localPort}) rejected\r\n`,
      );
      await first.sendText("6*7\r");
      assert((await first.readText(">>> ")).includes("42"), "the first session still works");
    } finally {
      first.close();
      second.close();
    }
  });
});

Deno.test("framing: an empty close gets 0x88 0x00 and the device closes; a freed slot accepts again", async () => {
  await withEmulator(async (port) => {
    const client = await WireClient.login(port, PASSWORD);
    await client.sendFrame(8, new Uint8Array(0));
    assertEquals([...await client.readAll()], [0x88, 0x00]);
    client.close();
    const again = await WireClient.login(port, PASSWORD);
    again.close();
  });
});

Deno.test("framing: the 64-bit length code 127 closes the connection", async () => {
  await withEmulator(async (port) => {
    const client = await WireClient.login(port, PASSWORD);
    const frame = new Uint8Array([0x81, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4]);
    await client.write(frame);
    assertEquals((await client.readAll()).length, 0);
    client.close();
  });
});

Deno.test("framing: a ping is never answered", async () => {
  await withEmulator(async (port) => {
    const client = await WireClient.login(port, PASSWORD);
    try {
      await client.sendFrame(9, new Uint8Array(0));
      await client.sendText("7\r");
      const first = (await client.readFrame())!;
      assertEquals([first.opcode, latin1(first.payload)], [1, "7"], "no pong before the echo");
    } finally {
      client.close();
    }
  });
});

Deno.test("login: device output before the password is accepted is not sent", async () => {
  const emu = await startEmulator({ password: PASSWORD, port: 0 });
  try {
    const client = await WireClient.open(emu.port);
    await client.readText("Password: ");
    emu.core.writeToTerminal(encoder.encode("printed before login"));
    await client.sendText(`${PASSWORD}\r`);
    assertEquals(await client.readText(">>> "), "\r\nWebREPL connected\r\n>>> ");
    client.close();
  } finally {
    await emu.close();
  }
});
