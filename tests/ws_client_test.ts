import { WsClient, WsHandshakeError, WsTimeoutError } from "../lib/ws/client.ts";
import { Opcode, WsProtocolError } from "../lib/ws/frame.ts";
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";
import { memoryPair, ScriptedDevice } from "./helpers/memory_stream.ts";

/** A client upgraded against a scripted device over an in-memory stream pair. */
async function upgraded() {
  const { client, device } = memoryPair();
  const peer = new ScriptedDevice(device);
  const served = peer.upgrade();
  const ws = await WsClient.connect(client);
  await served;
  return { client, peer, ws };
}

const ascii = (text: string) => new TextEncoder().encode(text);

Deno.test("ws client: exact-case upgrade headers, accept verified, surplus bytes kept", async () => {
  const { client, device } = memoryPair();
  const peer = new ScriptedDevice(device);
  // The device's first frame arrives in the same read as the 101 head.
  const served = peer.upgrade(Uint8Array.fromHex("810a50617373776f72643a20"));
  const ws = await WsClient.connect(client);
  await served;
  const lines = peer.requestHead.split("\r\n");
  assertEquals(lines[0], "GET / HTTP/1.1");
  assert(lines.includes("Host: 192.168.4.1:8266"), peer.requestHead);
  assert(lines.includes("Upgrade: websocket"));
  assert(lines.includes("Connection: Upgrade"));
  assert(lines.includes("Sec-WebSocket-Version: 13"));
  assert(lines.some((line) => /^Sec-WebSocket-Key: [A-Za-z0-9+/]{22}==$/.test(line)));
  assertEquals(await ws.receive(), { opcode: Opcode.Text, payload: ascii("Password: ") });
  await ws.close();
});

Deno.test("ws client: text frames with invalid UTF-8 are delivered as bytes; binary keeps its opcode", async () => {
  const { peer, ws } = await upgraded();
  await peer.sendText(Uint8Array.of(0xff, 0xfe, 0x00));
  await peer.sendBinary(ascii("WB\0\0"));
  assertEquals(await ws.receive(), { opcode: Opcode.Text, payload: Uint8Array.of(0xff, 0xfe, 0x00) });
  assertEquals(await ws.receive(), { opcode: Opcode.Binary, payload: ascii("WB\0\0") });
  await ws.close();
});

Deno.test("ws client: every frame is masked, FIN, unfragmented and written in one write", async () => {
  const { client, peer, ws } = await upgraded();
  client.writes.length = 0;
  const big = crypto.getRandomValues(new Uint8Array(65535));
  await ws.sendText("pw\r");
  await ws.sendBinary(big);
  assertEquals(client.writes.length, 2);
  assertEquals(client.writes[1].length, 4 + 4 + 65535);
  const first = await peer.frame();
  const second = await peer.frame();
  assert(first!.masked && first!.fin && first!.opcode === Opcode.Text);
  assertEquals(first!.payload, ascii("pw\r"));
  assert(second!.masked && second!.fin && second!.opcode === Opcode.Binary);
  assert(second!.payload.toHex() === big.toHex());
  await assertRejects(() => ws.sendBinary(new Uint8Array(65536)), RangeError, "exceeds 65535");
  await ws.close();
});

Deno.test("ws client: HTTP 200 is a rejected request", async () => {
  const { client, device } = memoryPair();
  const peer = new ScriptedDevice(device);
  const served = (async () => {
    await peer.readRequest();
    await peer.sendRaw(ascii("HTTP/1.0 200 OK\r\n\r\n<html>webrepl</html>"));
    peer.close();
  })();
  const error = await assertRejects(() => WsClient.connect(client), WsHandshakeError, "rejected");
  assertEquals(error.code, "WS_ERR_REQUEST_REJECTED");
  await served;
});

Deno.test("ws client: a wrong Sec-WebSocket-Accept is refused", async () => {
  const { client, device } = memoryPair();
  const peer = new ScriptedDevice(device);
  const served = (async () => {
    await peer.readRequest();
    await peer.sendRaw(ascii("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: AAAA\r\n\r\n"));
  })();
  const error = await assertRejects(() => WsClient.connect(client), WsHandshakeError);
  assertEquals(error.code, "WS_ERR_BAD_ACCEPT");
  await served;
});

Deno.test("ws client: EOF during the handshake and a handshake timeout", async () => {
  {
    const { client, device } = memoryPair();
    const peer = new ScriptedDevice(device);
    const served = (async () => {
      await peer.readRequest();
      peer.close();
    })();
    const error = await assertRejects(() => WsClient.connect(client), WsHandshakeError);
    assertEquals(error.code, "WS_ERR_HANDSHAKE_EOF");
    await served;
  }
  {
    const { client } = memoryPair();
    const error = await assertRejects(() => WsClient.connect(client, { timeoutMs: 20 }), WsHandshakeError);
    assertEquals(error.code, "WS_ERR_HANDSHAKE_TIMEOUT");
  }
});

Deno.test("ws client: 101 then EOF, and 101 then a close frame, end with zero data frames", async () => {
  for (const ending of ["eof", "close-frame"] as const) {
    const { client, device } = memoryPair();
    const peer = new ScriptedDevice(device);
    const served = (async () => {
      await peer.upgrade();
      if (ending === "close-frame") await peer.sendRaw(Uint8Array.of(0x88, 0x00));
      peer.close();
    })();
    const ws = await WsClient.connect(client);
    await served;
    assertEquals(await ws.receive(), null);
    assertEquals(ws.end, { reason: ending, dataFrames: 0 });
    await ws.close();
  }
});

Deno.test("ws client: pings are ignored, not answered", async () => {
  const { client, peer, ws } = await upgraded();
  client.writes.length = 0;
  await peer.sendRaw(Uint8Array.fromHex("8900"));
  await peer.sendText("x");
  assertEquals(await ws.receive(), { opcode: Opcode.Text, payload: ascii("x") });
  assertEquals(client.writes.length, 0, "no pong");
  await ws.close();
});

Deno.test("ws client: over TCP each read that brings data sends one empty ping, never while idle", async () => {
  const { client, peer, ws } = await upgraded();
  const before = client.pokes();
  // A frame in two pieces, as stock WebREPL writes it with Nagle on: the header alone, then the payload.
  await peer.sendRaw(Uint8Array.of(0x81, 0x01));
  const reply = ws.receive();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assertEquals(client.pokes(), before + 1, "the header's read carries the ACK the device waits for");
  await peer.sendRaw(ascii("x"));
  assertEquals(await reply, { opcode: Opcode.Text, payload: ascii("x") });
  await new Promise((resolve) => setTimeout(resolve, 10));
  assertEquals(client.pokes(), before + 2);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assertEquals(client.pokes(), before + 2, "nothing while nothing arrives");
  await ws.close();
});

Deno.test("ws client: over TLS no pings are sent (our wss_repl turns Nagle off)", async () => {
  const { client, device } = memoryPair({ kind: "tls", host: "192.168.4.1", port: 8833 });
  const peer = new ScriptedDevice(device);
  const served = peer.upgrade();
  const ws = await WsClient.connect(client);
  await served;
  await peer.sendText("x");
  assertEquals(await ws.receive(), { opcode: Opcode.Text, payload: ascii("x") });
  assertEquals(client.pokes(), 0);
  await ws.close();
});

Deno.test("ws client: malformed and oversize device frames fail with their code at receive, even in the 101 read", async () => {
  for (
    const [bytes, code] of [
      ["c100", "WS_ERR_RESERVED_BITS"],
      ["827f0000000000010000", "WS_ERR_PAYLOAD_TOO_BIG"],
      ["818001020304", "WS_ERR_UNEXPECTED_MASK"],
      ["8f00", "WS_ERR_INVALID_OPCODE"],
    ]
  ) {
    const { client, device } = memoryPair();
    const peer = new ScriptedDevice(device);
    const served = peer.upgrade(Uint8Array.fromHex(bytes));
    // Bytes that came with the head are a frame like any other: the upgrade itself succeeded.
    const ws = await WsClient.connect(client);
    await served;
    const error = await assertRejects(() => ws.receive(), WsProtocolError);
    assertEquals(error.code, code);
    await ws.close();
  }
});

Deno.test("ws client: a stream that ends inside a frame ends as eof-mid-frame", async () => {
  const second = Uint8Array.fromHex("810568656c6c6f");
  for (let cutAt = 1; cutAt < second.length; cutAt++) {
    const { client, device } = memoryPair();
    const peer = new ScriptedDevice(device);
    const served = (async () => {
      await peer.upgrade(new Uint8Array([...Uint8Array.fromHex("81026869"), ...second.subarray(0, cutAt)]));
      peer.close();
    })();
    const ws = await WsClient.connect(client);
    await served;
    assertEquals(await ws.receive(), { opcode: Opcode.Text, payload: ascii("hi") });
    assertEquals(await ws.receive(), null);
    assertEquals(ws.end, { reason: "eof-mid-frame", dataFrames: 1 }, `cut at ${cutAt}`);
    await ws.close();
  }
});

Deno.test("ws client: an inactivity timeout loses no data", async () => {
  const { peer, ws } = await upgraded();
  await assertRejects(() => ws.receive(10), WsTimeoutError);
  await peer.sendText("late");
  assertEquals(await ws.receive(1000), { opcode: Opcode.Text, payload: ascii("late") });
  await ws.close();
});

Deno.test("ws client: close sends an empty masked close frame and waits for the reply", async () => {
  const { peer, ws } = await upgraded();
  const closing = ws.close();
  const frame = await peer.frame();
  assert(frame !== null && frame.opcode === Opcode.Close && frame.masked && frame.payload.length === 0);
  await peer.sendRaw(Uint8Array.of(0x88, 0x00));
  await closing;
  assertEquals(ws.end?.reason, "close-frame");
});
