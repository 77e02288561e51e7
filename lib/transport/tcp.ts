/**
 * Plain TCP transport (ws://). TCP_NODELAY is set because every WebSocket exchange with a device is a small
 * request/response; with Nagle on, each one can stall on the peer's delayed ACK (webrepl-protocol.md §10).
 */
import { UserError } from "../cli/errors.ts";
import type { ByteStream, TransportInfo } from "./stream.ts";

export interface TcpOptions {
  /** Bound on establishing the connection. */
  timeoutMs: number;
}

const READ_BUFFER_BYTES = 64 * 1024;

export async function connectTcp(host: string, port: number, options: TcpOptions): Promise<ByteStream> {
  const address = formatAddress(host, port);
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: host, port, signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (error) {
    throw connectError(error, address, options.timeoutMs);
  }
  conn.setNoDelay(true);
  return connStream(conn, { kind: "tcp", host, port });
}

/** host:port, with brackets around an IPv6 literal. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Maps a connect failure to a one-line UserError naming the address; TLS reuses it. */
export function connectError(error: unknown, address: string, timeoutMs: number): UserError {
  const name = error instanceof Error ? error.name : "";
  const code = (error as { code?: string } | null)?.code ?? "";
  if (name === "TimeoutError" || name === "AbortError" || code === "ETIMEDOUT") {
    return new UserError(`cannot connect to ${address}: no answer within ${timeoutMs / 1000} s`, {
      cause: error,
    });
  }
  if (error instanceof Deno.errors.ConnectionRefused || code === "ECONNREFUSED") {
    return new UserError(`cannot connect to ${address}: connection refused (is WebREPL running there?)`, {
      cause: error,
    });
  }
  if (code === "ENOTFOUND" || /failed to lookup|Name or service not known|dns/i.test(String(error))) {
    return new UserError(`cannot connect to ${address}: host name not found`, { cause: error });
  }
  const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new UserError(`cannot connect to ${address}: ${reason}`, { cause: error });
}

/** A Deno connection as a ByteStream. A reset or an unexpected EOF is an end of stream, as on a device close. */
export function connStream(conn: Deno.Conn, info: TransportInfo): ByteStream {
  let closed = false;
  return {
    info,
    async read() {
      if (closed) return null;
      const buffer = new Uint8Array(READ_BUFFER_BYTES);
      try {
        const count = await conn.read(buffer);
        return count === null ? null : buffer.slice(0, count);
      } catch (error) {
        if (isEndOfStream(error, closed)) return null;
        throw error;
      }
    },
    async write(bytes) {
      let offset = 0;
      while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // Already closed by the peer side of the runtime; nothing left to release.
      }
    },
  };
}

function isEndOfStream(error: unknown, closedLocally: boolean): boolean {
  return closedLocally ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted;
}
