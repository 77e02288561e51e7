/**
 * Opening a device: transport (TCP for ws, mutual TLS for wss) → WebSocket upgrade → WebREPL login.
 * Everything above (ops, commands, shell) starts here and never sees a socket.
 */
import { UserError } from "../cli/errors.ts";
import type { ByteStream, TransportInfo } from "../transport/stream.ts";
import { connectTcp, formatAddress } from "../transport/tcp.ts";
import { checkPassword } from "../config/password.ts";
import { WebReplSession } from "../webrepl/session.ts";
import { WsClient, WsHandshakeError } from "../ws/client.ts";
import { type DeviceTarget, targetPort } from "./target.ts";
import type { SessionOptions } from "../webrepl/session.ts";

export interface TlsCredentials {
  caPem: string;
  certPem: string;
  /** Unencrypted PKCS#8 PEM (decrypted in memory by the loader). */
  keyPem: string;
  /** Name to verify the device certificate against when it differs from the address (e.g. NAME.local). */
  servername?: string;
}

/** Session bounds (inactivity, each answer as a whole, bytes kept) plus the connection's own. */
export interface OpenDeviceOptions extends SessionOptions {
  /** Bound on TCP connect, TLS handshake and WebSocket upgrade together. */
  connectTimeoutMs?: number;
  /** Loads the CA, host certificate and decrypted host key; required for `target.secure`. */
  tlsCredentials?: () => Promise<TlsCredentials>;
  /** A kept session's local stream (lib/persist) instead of a new link, and the upgrade path it expects. */
  kept?: { stream: ByteStream; path: string };
}

/** A logged-in link; lib/ops wraps its session into file operations. */
export interface DeviceConnection {
  session: WebReplSession;
  info: TransportInfo;
  close(): Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export async function openDevice(
  target: DeviceTarget,
  options: OpenDeviceOptions = {},
): Promise<DeviceConnection> {
  checkPassword(target.password);
  const port = targetPort(target);
  const address = formatAddress(target.host, port);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const stream = options.kept?.stream ?? await openStream(target, port, timeoutMs, options);
  let ws: WsClient;
  try {
    ws = await WsClient.connect(stream, { timeoutMs, path: options.kept?.path });
  } catch (error) {
    throw handshakeError(error, address, target.secure);
  }
  const session = await WebReplSession.login(ws, target.password, options);
  return {
    session,
    info: stream.info,
    close: () => session.close(),
  };
}

async function openStream(
  target: DeviceTarget,
  port: number,
  timeoutMs: number,
  options: OpenDeviceOptions,
): Promise<ByteStream> {
  if (!target.secure) return await connectTcp(target.host, port, { timeoutMs });
  if (!options.tlsCredentials) {
    throw new UserError(
      `wss to ${formatAddress(target.host, port)} needs the host's TLS certificate and key`,
    );
  }
  // node:tls costs start-up time: only wss loads it, and prepares it while scrypt decrypts the host key on
  // another thread.
  const [credentials, { connectTls }] = await Promise.all([
    options.tlsCredentials(),
    import("../transport/tls.ts").then(async (tls) => {
      await tls.prepareTls();
      return tls;
    }),
  ]);
  return await connectTls({ host: target.host, port, timeoutMs, ...credentials });
}

function handshakeError(error: unknown, address: string, secure: boolean): unknown {
  if (!(error instanceof WsHandshakeError)) return error;
  const scheme = secure ? "wss" : "ws";
  switch (error.code) {
    case "WS_ERR_REQUEST_REJECTED":
      return new UserError(`${scheme}://${address} rejected the WebSocket upgrade (not a WebREPL endpoint?)`);
    case "WS_ERR_HANDSHAKE_TIMEOUT":
      return new UserError(`${scheme}://${address} accepted the connection but did not answer the upgrade`);
    case "WS_ERR_HANDSHAKE_EOF":
      return new UserError(
        `${scheme}://${address} closed the connection during the WebSocket upgrade` +
          (secure ? " (does the device trust this host's certificate?)" : ""),
      );
    default:
      return new UserError(
        `${scheme}://${address}: WebSocket upgrade failed: ${error.message} (${error.code})`,
      );
  }
}
