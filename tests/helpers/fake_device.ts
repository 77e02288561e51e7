/**
 * A scriptable WebREPL device on a real socket (TCP, or TLS with `tls`), for playing broken and hostile devices
 * against the client and the whole CLI: each accepted connection runs `script` with a ScriptedDevice (frames in,
 * frames or raw bytes out). The helpers below play the usual parts (login, raw REPL); a hostile script swaps in
 * its own misbehaviour at any point.
 */
import { connStream } from "../../lib/transport/tcp.ts";
import { encodeFrame, Opcode } from "../../lib/ws/frame.ts";
import { ScriptedDevice } from "./memory_stream.ts";

export const FAKE_PASSWORD = "fakepw";

export interface FakeDeviceOptions {
  /** Serve TLS with this certificate (client certificates are not checked). */
  tls?: { certPem: string; keyPem: string };
}

export interface FakeDevice {
  port: number;
  /** `-t 127.0.0.1:PORT -p PASSWORD` for the CLI. */
  args: string[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Stops listening, closes every connection and waits for the scripts; a script's failure is rethrown. */
  finish(): Promise<void>;
}

export function fakeDevice(
  script: (peer: ScriptedDevice, connection: number) => Promise<void>,
  options: FakeDeviceOptions = {},
): FakeDevice {
  const listener: Deno.Listener = options.tls
    ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: options.tls.certPem, key: options.tls.keyPem })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const scripts: Promise<void>[] = [];
  const peers: ScriptedDevice[] = [];
  let connections = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      const peer = new ScriptedDevice(
        connStream(conn, { kind: options.tls ? "tls" : "tcp", host: "127.0.0.1", port }),
      );
      peers.push(peer);
      const run = script(peer, connections++);
      scripts.push(run.finally(() => peer.close()));
    }
  })();
  return {
    port,
    args: ["-t", `127.0.0.1:${port}`, "-p", FAKE_PASSWORD],
    get connections() {
      return connections;
    },
    async finish() {
      listener.close();
      await accepting.catch(() => {});
      // A script still playing (a device that never stops) ends when its connection does.
      for (const peer of peers) peer.close();
      await Promise.all(scripts);
    },
  };
}

/** Upgrade, password prompt, the password, "WebREPL connected": the part every well-behaved device plays. */
export async function login(peer: ScriptedDevice, password = FAKE_PASSWORD): Promise<void> {
  await peer.upgrade();
  await peer.sendText("Password: ");
  const typed = await peer.textUntil("\r");
  if (typed !== `${password}\r`) {
    await peer.sendText("\r\nAccess denied\r\n");
    throw new Error(`fake device: wrong password ${JSON.stringify(typed)}`);
  }
  await peer.sendText("\r\nWebREPL connected\r\n>>> ");
}

/** Answers one program: `reply` sends its output (use `sendResult` for the usual shape). */
export type ProgramHandler = (code: string, peer: ScriptedDevice) => Promise<void>;

/** stdout, \x04, the traceback, \x04, and the raw prompt, as the raw REPL answers a finished program. */
export async function sendResult(
  peer: ScriptedDevice,
  stdout: string | Uint8Array,
  error = "",
): Promise<void> {
  await peer.sendText(stdout);
  await peer.sendText(`\x04${error}\x04>`);
}

/**
 * Plays the raw REPL without raw-paste (R\x00, as old firmware, unless `rawPasteAnswer` says otherwise): banner
 * on Ctrl-A, OK after each program's Ctrl-D, then `handler`. Returns when the client closes.
 */
export async function serveRawRepl(
  peer: ScriptedDevice,
  handler: ProgramHandler,
  options: { rawPasteAnswer?: (peer: ScriptedDevice) => Promise<void> } = {},
): Promise<void> {
  let pending = "";
  while (true) {
    const frame = await peer.frame();
    if (frame === null || frame.opcode === Opcode.Close) return;
    pending += new TextDecoder().decode(frame.payload);
    while (true) {
      if (pending.startsWith("\r\x03\x03\x01")) {
        pending = pending.slice(4);
        await peer.sendText("\r\n>>> \r\nraw REPL; CTRL-B to exit\r\n>");
      } else if (pending.startsWith("\x05A\x01")) {
        pending = pending.slice(3);
        await (options.rawPasteAnswer ?? ((peer) => peer.sendText("R\x00")))(peer);
      } else if (pending.startsWith("\x02")) {
        pending = pending.slice(1);
      } else if (pending.includes("\x04")) {
        const end = pending.indexOf("\x04");
        const code = pending.slice(0, end);
        pending = pending.slice(end + 1);
        await peer.sendText("OK");
        await handler(code, peer);
      } else break;
    }
  }
}

/** A text frame as raw bytes, for writing part of one. */
export function textFrame(text: string): Uint8Array {
  return encodeFrame(Opcode.Text, new TextEncoder().encode(text), { mask: false });
}

/** Rejects when `promise` has not settled within `ms`: a hang fails the test instead of stalling the suite. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
