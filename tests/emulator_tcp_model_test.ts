import { ESP32_SEND_BUFFER_BYTES, TcpSendBuffer } from "../lib/emulator/tcp_model.ts";
import { assertEquals } from "./helpers/assert.ts";

const reply = new Uint8Array(266); // one GET reply: 4-byte frame header + 2-byte length + 256 bytes
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("tcp model: a write that does not fit the 5,744-byte send buffer is cut, the rest dropped", async () => {
  let dropped = 0;
  const buffer = new TcpSendBuffer({ rttMs: 20, onDrop: (bytes) => (dropped += bytes) });
  assertEquals(buffer.capacity, ESP32_SEND_BUFFER_BYTES);
  assertEquals(buffer.write(new Uint8Array(5000)).length, 5000);
  assertEquals(buffer.write(new Uint8Array(1000)).length, 744, "a non-blocking send takes what fits");
  assertEquals(dropped, 256);
  assertEquals(buffer.write(new Uint8Array(10)).length, 0);
  await sleep(120);
  assertEquals(buffer.unacknowledged, 0, "the host's ACK frees the buffer one round trip later");
  assertEquals(buffer.write(new Uint8Array(10)).length, 10);
  buffer.close();
});

Deno.test("tcp model: 16 GET replies in flight fit; 64 sent back to back before an ACK returns do not", () => {
  for (const [inFlight, expectedDrops] of [[16, 0], [64, 64 * 266 - ESP32_SEND_BUFFER_BYTES]]) {
    let dropped = 0;
    const buffer = new TcpSendBuffer({ rttMs: 5, onDrop: (bytes) => (dropped += bytes) });
    for (let i = 0; i < inFlight; i++) buffer.write(reply);
    assertEquals(dropped, expectedDrops, `${inFlight} in flight`);
    buffer.close();
  }
});

Deno.test("tcp model: on loopback (no round trip) anything the host sends frees the buffer at once", () => {
  const buffer = new TcpSendBuffer();
  buffer.write(new Uint8Array(2000));
  assertEquals(buffer.unacknowledged, 2000, "under two segments the host delays its ACK");
  buffer.peerSent();
  assertEquals(buffer.unacknowledged, 0);
  buffer.write(new Uint8Array(3000));
  assertEquals(buffer.unacknowledged, 0, "two full segments are acknowledged at once");
  buffer.close();
});
