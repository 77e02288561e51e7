import { ESP32_SEND_BUFFER_BYTES, TcpSendModel } from "../lib/emulator/tcp_model.ts";
import { assertEquals } from "./helpers/assert.ts";

/** A model whose wire is an array, with the bytes it dropped counted. */
function modelled(nagle = true) {
  const wire: number[] = [];
  let dropped = 0;
  const model = new TcpSendModel((bytes) => wire.push(bytes.length), {
    nagle: () => nagle,
    onDrop: (bytes) => (dropped += bytes),
  });
  return { model, wire, dropped: () => dropped };
}

const header = new Uint8Array(4); // a GET reply's frame header
const payload = new Uint8Array(258); // its 2-byte length and 256 bytes

Deno.test("tcp model: with Nagle a frame's payload waits for the host's ACK of its header", () => {
  const { model, wire } = modelled();
  model.write(header);
  model.write(payload);
  assertEquals(wire, [4], "the header leaves, the payload waits (the 44 ms of one request at a time)");
  model.peerSent();
  assertEquals(wire, [4, 258], "any byte from the host carries the ACK");
  model.close();
});

Deno.test("tcp model: without Nagle (TCP_NODELAY) every write leaves at once", () => {
  const { model, wire } = modelled(false);
  model.write(header);
  model.write(payload);
  assertEquals(wire, [4, 258]);
  model.close();
});

Deno.test("tcp model: the delayed ACK releases a held payload after 40 ms", async () => {
  const { model, wire } = modelled();
  model.write(header);
  model.write(payload);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assertEquals(wire, [4, 258]);
  model.close();
});

Deno.test("tcp model: what does not fit the 5,744-byte send buffer is dropped", () => {
  const { model, dropped } = modelled();
  for (let i = 0; i < 64; i++) model.write(new Uint8Array(262));
  assertEquals(dropped(), 0, "64 GET replies: the host acknowledges every two full segments on loopback");
  model.write(new Uint8Array(6000));
  assertEquals(model.buffered <= ESP32_SEND_BUFFER_BYTES, true);
  assertEquals(dropped() > 0, true, "one write larger than the free space is cut, as a non-blocking send is");
  model.close();
});

Deno.test("tcp model: closing sends what Nagle still holds", () => {
  const { model, wire } = modelled();
  model.write(header);
  model.write(payload);
  model.close();
  assertEquals(wire, [4, 258]);
});
