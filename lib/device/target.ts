/**
 * A resolved device: where it is and how to log in. Produced by the registry or by `-t`/`-p`,
 * consumed by the connection layer.
 */
export interface DeviceTarget {
  /** Registry name, when the device came from the registry or `-@`. */
  name?: string;
  host: string;
  /** Explicit port; otherwise 8266 for ws and 8833 for wss. */
  port?: number;
  /** WebREPL password (at most 9 characters on the device). */
  password: string;
  /** Passphrase of the host key; its presence selects wss, as in upydev's `-p PASS:PASSPHRASE`. */
  passphrase?: string;
  /** Use wss (mutual TLS). True when a passphrase is stored, a wss:// address was given, or `-wss`. */
  secure: boolean;
  /** Idle seconds of a kept session that the registry asks for (`config --persist`). */
  persist?: number;
}

export const WS_PORT = 8266;
export const WSS_PORT = 8833;

export function targetPort(target: DeviceTarget): number {
  return target.port ?? (target.secure ? WSS_PORT : WS_PORT);
}
