/**
 * The exec route for files under faults: a device that sends more than the size it announced, and a PUT whose
 * clean-up fails after the write did (the first error is the one reported).
 */
import { openDevice } from "../lib/device/connect.ts";
import { LinkError } from "../lib/transport/link_error.ts";
import { ExecTransfer } from "../lib/webrepl/exec_transfer.ts";
import { DeviceExecError } from "../lib/webrepl/session.ts";
import { assertEquals, assertRejects } from "./helpers/assert.ts";
import {
  FAKE_PASSWORD,
  fakeDevice,
  login,
  type ProgramHandler,
  sendResult,
  serveRawRepl,
} from "./helpers/fake_device.ts";

async function withTransfer(
  handler: ProgramHandler,
  run: (transfer: ExecTransfer, port: number) => Promise<void>,
) {
  const device = fakeDevice(async (peer) => {
    await login(peer);
    await serveRawRepl(peer, handler);
  });
  try {
    const connection = await openDevice(
      { host: "127.0.0.1", port: device.port, password: FAKE_PASSWORD, secure: false },
      { inactivityMs: 2000 },
    );
    try {
      await run(new ExecTransfer(connection.session), device.port);
    } finally {
      await connection.close();
    }
  } finally {
    await device.finish();
  }
}

Deno.test("exec transfer: a GET reads no more than the size announced", async () => {
  const sixBytes = `${Uint8Array.of(1, 2, 3, 4, 5, 6).toBase64()}\r\n`;
  await withTransfer((_code, peer) => sendResult(peer, sixBytes.repeat(4)), async (transfer, port) => {
    const error = await assertRejects(() => transfer.get("/f.bin", 6), LinkError);
    assertEquals(
      error.message,
      `/f.bin changed size during the transfer from 127.0.0.1:${port}; reconnect and retry`,
    );
  });
});

Deno.test("exec transfer: when closing the file fails after a failed write, the write's error is reported", async () => {
  let run = 0;
  await withTransfer(async (_code, peer) => {
    run++;
    if (run === 1) return await sendResult(peer, ""); // open
    const errno = run === 2 ? 28 : 5; // the write finds the flash full; closing then fails too
    await sendResult(peer, "", `Traceback (most recent call last):\r\nOSError: ${errno}\r\n`);
  }, async (transfer) => {
    const error = await assertRejects(() => transfer.put("/f.bin", new Uint8Array(10)), DeviceExecError);
    assertEquals([error.errnoName, run], ["ENOSPC", 3]);
  });
});
