/**
 * TLS transport (wss://, mutual TLS), built on node:tls as Deno provides it.
 *
 * node:tls rather than Deno.connectTls because it can report the negotiated protocol and cipher, and lets
 * a DNS servername be verified while connecting by IP with a client certificate (Deno.startTls cannot send
 * one). Verification of the chain and of the host name or IP address (iPAddress SAN) is always on.
 * Verified under Deno 2.9.6 against a TLS 1.2-only server (the device has no TLS 1.3): ECDHE-ECDSA-AES256-GCM.
 */
import { Duplex } from "node:stream";
import tls from "node:tls";
import { UserError } from "../cli/errors.ts";
import { LinkError } from "./link_error.ts";
import { concatBytes, exactSize } from "../bytes/bytes.ts";
import { connectError, formatAddress } from "./tcp.ts";
import type { ByteStream, TransportInfo } from "./stream.ts";

export interface TlsOptions {
  host: string;
  port: number;
  /** PEM of the CA that signed the device certificate; the only trust anchor. */
  caPem: string;
  /** PEM of the host's client certificate. */
  certPem: string;
  /** Unencrypted PKCS#8 PEM of the host's key (decrypted in memory by the caller). */
  keyPem: string;
  /** Name to verify the device certificate against instead of `host` (e.g. connect by IP, verify NAME.local). */
  servername?: string;
  timeoutMs: number;
  /** Received bytes kept while nobody reads (default TLS_RECEIVE_BUFFER_BYTES); past it the link closes. */
  maxUnreadBytes?: number;
}

/** Longest the one-time preparation may take; past it the handshake simply pays the rest. */
const PREPARE_BOUND_MS = 200;
let prepared: Promise<void> | undefined;

/**
 * Deno's node:tls spends about 30 ms of main-thread set-up before its first ClientHello (measured: a first
 * handshake takes 42 ms, the next 7 ms). This pays it once with no network: a ClientHello written into a sink
 * and dropped. Worth it only while the main thread would otherwise wait, as it does for the host key's scrypt.
 */
export function prepareTls(): Promise<void> {
  prepared ??= new Promise<void>((resolve) => {
    const sink = new Duplex({ read() {}, write: (_chunk, _encoding, done) => (done(), finish()) });
    const rehearsal = tls.connect({ socket: sink, servername: "prepare.invalid" });
    const timer = setTimeout(() => finish(), PREPARE_BOUND_MS);
    function finish() {
      clearTimeout(timer);
      rehearsal.destroy();
      resolve();
    }
    rehearsal.on("error", finish);
  });
  return prepared;
}

export async function connectTls(options: TlsOptions): Promise<ByteStream> {
  const address = formatAddress(options.host, options.port);
  const socket = tls.connect({
    host: options.host,
    port: options.port,
    ca: [options.caPem],
    cert: options.certPem,
    key: options.keyPem,
    servername: options.servername,
    rejectUnauthorized: true,
  });
  socket.setNoDelay(true);
  const stream = socketStream(socket, options);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })),
        options.timeoutMs,
      );
      socket.once("secureConnect", () => resolve());
      socket.once("error", reject);
    });
  } catch (error) {
    stream.close();
    throw await misreportedRejection(error, options, address) ?? tlsError(error, address, options.timeoutMs);
  } finally {
    clearTimeout(timer);
  }
  const cipher = socket.getCipher();
  Object.assign(stream.info, {
    tlsProtocol: socket.getProtocol() ?? undefined,
    tlsCipher: cipher?.name,
    tlsBits: cipherBits(cipher?.name ?? ""),
  });
  return stream;
}

/** Symmetric key size from the cipher suite name: node:tls under Deno does not report it. */
export function cipherBits(cipherName: string): number | undefined {
  if (/AES_?256|CHACHA20/i.test(cipherName)) return 256;
  if (/AES_?128/i.test(cipherName)) return 128;
  return undefined;
}

function tlsError(error: unknown, address: string, timeoutMs: number): UserError {
  const code = (error as { code?: string } | null)?.code ?? "";
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new UserError(`TLS to ${address}: device certificate does not match the address (${message})`, {
      cause: error,
    });
  }
  if (/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/.test(code)) {
    return new UserError(`TLS to ${address}: device certificate is not signed by your CA (${code})`, {
      cause: error,
    });
  }
  if (
    /CERT|UNABLE_TO_VERIFY|SELF_SIGNED|UnknownIssuer|BadSignature|certificate/i.test(code + " " + message)
  ) {
    return new UserError(`TLS to ${address}: device certificate rejected: ${message}`, { cause: error });
  }
  if (code === "ECONNRESET" || /UnexpectedEof|handshake|disconnected before secure TLS/i.test(message)) {
    // A device that refuses the client certificate just closes the connection (mbedtls sends no reason).
    return new UserError(
      `TLS handshake with ${address} failed: the device closed the connection; it does not accept this ` +
        "host's certificate (from another CA, or expired) or is not serving wss",
      { cause: error },
    );
  }
  return connectError(error, address, timeoutMs);
}

/**
 * How much received data is kept while nobody reads it. node:tls reads eagerly, and under Deno pausing the
 * socket loses its end event (a hang), so TCP flow control cannot hold the device back: past this bound the
 * link is closed with an error instead of host memory growing without bound. Readers of a live session read
 * continuously, so only a device flooding an idle link reaches it.
 */
const TLS_RECEIVE_BUFFER_BYTES = 16 << 20;

/**
 * node:tls reports an expired, not-yet-valid or wrong-purpose device certificate as a chain failure
 * (UNABLE_TO_VERIFY_LEAF_SIGNATURE), which would blame the CA. For those codes the certificate is fetched again
 * without verification, only to name the real cause (lib/pki/verify.ts); nothing is sent over that probe.
 */
async function misreportedRejection(
  error: unknown,
  options: TlsOptions,
  address: string,
): Promise<UserError | undefined> {
  const code = (error as { code?: string } | null)?.code ?? "";
  if (
    !/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/.test(
      code,
    )
  ) {
    return undefined;
  }
  const certDer = await peerCertificate(options).catch(() => undefined);
  if (!certDer) return undefined;
  const { misreportedProblem } = await import("../pki/verify.ts");
  const problem = await misreportedProblem(certDer, options.caPem, "server", "device");
  return problem ? new UserError(`TLS to ${address}: ${problem}`, { cause: error }) : undefined;
}

function peerCertificate(options: TlsOptions): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const probe = tls.connect({
      host: options.host,
      port: options.port,
      cert: options.certPem,
      key: options.keyPem,
      servername: options.servername,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => probe.destroy(new Error("timeout")), options.timeoutMs);
    probe.once("secureConnect", () => {
      clearTimeout(timer);
      const raw = (probe.getPeerCertificate(true) as { raw?: Uint8Array }).raw;
      probe.destroy();
      resolve(raw ? new Uint8Array(raw) : undefined);
    });
    probe.once("error", (probeError) => {
      clearTimeout(timer);
      reject(probeError);
    });
  });
}

/**
 * A connected node:tls socket as a ByteStream. Close without close_notify and resets count as EOF.
 *
 * node:tls never calls a write's callback once the peer has ended the connection, and then nothing keeps the
 * event loop alive: a write still waiting must settle when the socket ends, or the command silently hangs
 * (a wrong WebREPL password over wss ended as "Top-level await promise never resolved").
 */
function socketStream(socket: tls.TLSSocket, options: TlsOptions): ByteStream {
  const info: TransportInfo = { kind: "tls", host: options.host, port: options.port };
  const chunks: Uint8Array[] = [];
  let buffered = 0;
  let overflow: LinkError | undefined;
  const maxUnread = options.maxUnreadBytes ?? TLS_RECEIVE_BUFFER_BYTES;
  let ended = false;
  let failure: unknown;
  let closed = false;
  let wake: (() => void) | undefined;
  const pendingWrites = new Set<(error: Error) => void>();
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const finish = () => {
    ended = true;
    const gone = new Deno.errors.BrokenPipe(`connection to ${info.host} closed`);
    for (const reject of pendingWrites) reject(gone);
    pendingWrites.clear();
    notify();
  };
  socket.on("data", (data: Uint8Array) => {
    if (overflow) return;
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
    buffered += data.byteLength;
    if (buffered > maxUnread && overflow === undefined) {
      overflow = new LinkError(
        "LINK_TOO_MUCH_DATA",
        `${formatAddress(info.host, info.port)} sent more than ${exactSize(maxUnread)} that was not read; ` +
          "connection closed",
      );
      chunks.length = 0;
      socket.destroy();
    }
    notify();
  });
  socket.on("end", finish);
  socket.on("close", finish);
  socket.on("error", (error: Error & { code?: string }) => {
    if (!isEndOfStream(error)) failure ??= error;
    finish();
  });
  return {
    info,
    async read() {
      if (overflow) throw overflow;
      while (chunks.length === 0) {
        if (failure !== undefined && !closed) throw failure;
        if (ended || closed) return null;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      // Everything received so far in one piece: node:tls hands over each TLS record on its own, and a reader
      // that sees a burst at once can answer it at once (GET sends the pulls it owes in one write).
      const chunk = chunks.length === 1 ? chunks[0] : concatBytes(chunks);
      chunks.length = 0;
      buffered = 0;
      return chunk;
    },
    write(bytes) {
      return new Promise<void>((resolve, reject) => {
        if (closed || ended) return reject(new Deno.errors.BrokenPipe(`connection to ${info.host} closed`));
        pendingWrites.add(reject);
        socket.write(bytes, (error) => {
          pendingWrites.delete(reject);
          if (error) reject(error);
          else resolve();
        });
      });
    },
    close() {
      if (closed) return;
      closed = true;
      socket.destroy();
      finish();
    },
  };
}

function isEndOfStream(error: Error & { code?: string }): boolean {
  return error.code === "ECONNRESET" || error.code === "EPIPE" || error.name === "UnexpectedEof" ||
    /unexpected ?eof|peer closed connection without sending TLS close_notify/i.test(error.message);
}
