/**
 * The one interface between byte transports (TCP, TLS; serial later) and everything above them.
 * The WebSocket client, the WebREPL session and the shell see only this, never a socket.
 */
export interface ByteStream {
  /** Next chunk of bytes; null at end of stream (a TLS close without close_notify is also EOF). */
  read(): Promise<Uint8Array | null>;
  /** Writes all bytes, in one write where the platform allows (one TCP segment per frame). */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the connection; safe to call twice. */
  close(): void;
  readonly info: TransportInfo;
}

export interface TransportInfo {
  kind: "tcp" | "tls";
  host: string;
  port: number;
  /** Filled for TLS once the handshake is done: e.g. "TLSv1.2". */
  tlsProtocol?: string;
  /** e.g. "ECDHE-ECDSA-AES256-GCM-SHA384". */
  tlsCipher?: string;
  /** Symmetric key bits, e.g. 256. */
  tlsBits?: number;
}
