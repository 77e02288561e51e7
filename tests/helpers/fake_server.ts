/** A one-connection TCP server on 127.0.0.1:0 whose device side is a ScriptedDevice. */
import { connStream } from "../../lib/transport/tcp.ts";
import { ScriptedDevice } from "./memory_stream.ts";

export function fakeDeviceServer(script: (peer: ScriptedDevice) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const done = (async () => {
    const conn = await listener.accept();
    const peer = new ScriptedDevice(connStream(conn, { kind: "tcp", host: "127.0.0.1", port }));
    try {
      await script(peer);
    } finally {
      peer.close();
    }
  })();
  return {
    port,
    /** Waits for the script, then stops listening. */
    async finish() {
      try {
        await done;
      } finally {
        listener.close();
      }
    },
  };
}
