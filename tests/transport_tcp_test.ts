import { UserError } from "../lib/cli/errors.ts";
import { connectError, connectTcp } from "../lib/transport/tcp.ts";
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";
import { concatBytes } from "../lib/bytes/bytes.ts";

Deno.test("tcp: refused connection names host:port", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await assertRejects(
    () => connectTcp("127.0.0.1", port, { timeoutMs: 2000 }),
    UserError,
    `cannot connect to 127.0.0.1:${port}: connection refused`,
  );
});

Deno.test("tcp: a connect timeout becomes a one-line error naming the address and the bound", () => {
  const error = connectError(new DOMException("Signal timed out.", "TimeoutError"), "10.0.0.9:8266", 3000);
  assert(error instanceof UserError);
  assertEquals(error.message, "cannot connect to 10.0.0.9:8266: no answer within 3 s");
});

Deno.test("tcp: bytes round trip, info, and a peer reset reads as end of stream", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(16);
    const count = await conn.read(buffer);
    await conn.write(buffer.subarray(0, count!));
    conn.close();
  })();
  const stream = await connectTcp("127.0.0.1", listener.addr.port, { timeoutMs: 2000 });
  assertEquals(stream.info, { kind: "tcp", host: "127.0.0.1", port: listener.addr.port });
  await stream.write(Uint8Array.of(0, 255, 13, 10));
  const received: Uint8Array[] = [];
  for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) received.push(chunk);
  assertEquals(concatBytes(received), Uint8Array.of(0, 255, 13, 10));
  assertEquals(await stream.read(), null);
  stream.close();
  stream.close();
  await served;
  listener.close();
});
