/** A TCP proxy that forwards one connection and cuts it once `limit` bytes went in one direction. */
export function cuttingProxy(upstreamPort: number, direction: "toDevice" | "toClient", limit: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    const client = await listener.accept();
    const device = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
    let forwarded = 0;
    const cut = () => {
      for (const conn of [client, device]) {
        try {
          conn.close();
        } catch {
          // the other pump closed it first
        }
      }
    };
    const pump = async (from: Deno.Conn, to: Deno.Conn, counted: boolean) => {
      const buffer = new Uint8Array(4096);
      try {
        while (true) {
          const count = await from.read(buffer);
          if (count === null) break;
          let chunk = buffer.subarray(0, count);
          if (counted) {
            chunk = chunk.subarray(0, Math.max(0, limit - forwarded));
            forwarded += chunk.length;
          }
          for (let offset = 0; offset < chunk.length;) offset += await to.write(chunk.subarray(offset));
          if (counted && forwarded >= limit) break;
        }
      } catch {
        // a closed side ends the pump
      }
      cut();
    };
    await Promise.all([
      pump(client, device, direction === "toDevice"),
      pump(device, client, direction === "toClient"),
    ]);
  })();
  return {
    port: listener.addr.port,
    async finish() {
      await done;
      listener.close();
    },
  };
}
