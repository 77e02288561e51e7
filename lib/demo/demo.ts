/**
 * `upydev demo`: the seed guide's whole WebSecureREPL flow against an emulated ESP32, in a throwaway home.
 * Every step is a real `upydev` command line run through the same CLI a user types into, printed before it
 * runs. The demo supplies its own passphrases (through the documented environment variables), so nothing
 * needs typing until the final interactive `shl` (or, with --script, a scripted shell session).
 */
import { runCli } from "../cli/run.ts";
import type { CommandSpec } from "../cli/command.ts";
import { UserError } from "../cli/errors.ts";
import type { Io } from "../ui/io.ts";
import { startWssEmulator, type WssEmulator } from "../emulator/shims/wss.ts";

export const DEMO_DEVICE = "esp_demo";
const WEBREPL_PASSWORD = "upydemo";
const CA_PASSPHRASE = "demo CA passphrase";
const HOST_PASSPHRASE = "demo-host-passphrase";
const BOOT_PY = "import wss_repl\nwss_repl.start(ssl=True)\n";

export interface DemoOptions {
  /** Run a scripted shell session instead of the interactive one. */
  script: boolean;
  /** The command table (passed in to avoid a cycle: the table lists the demo). */
  table: () => CommandSpec[];
}

/** A scripted keystroke: sent once the screen shows `after` (since the previous keystroke). */
export interface ScriptedKey {
  after: string;
  keys: string;
}

export const SHELL_SCRIPT: ScriptedKey[] = [
  { after: `@${DEMO_DEVICE}:~ $ `, keys: "ls\r" },
  { after: "$ ", keys: "cd lib\r" },
  { after: "~/lib $ ", keys: "ls\r" },
  { after: "$ ", keys: "cat /boot.py\r" },
  { after: "$ ", keys: "\x13" },
  { after: ">>> ", keys: "import sys; print(sys.platform, 6 * 7)\r" },
  { after: "esp32 42", keys: "\x13" },
  { after: "~/lib $ ", keys: "exit\r" },
];

export async function runDemo(io: Io, options: DemoOptions): Promise<number> {
  const root = await Deno.makeTempDir({ prefix: "upydev-demo-" });
  const home = `${root}/home`;
  const project = `${root}/project`;
  await Deno.mkdir(project, { recursive: true });
  const env: Record<string, string> = {
    HOME: home,
    USER: io.env("USER") ?? "demo",
    UPYDEV_CA_PASSPHRASE: CA_PASSPHRASE,
    UPYDEV_PASSPHRASE: HOST_PASSPHRASE,
  };
  const stepIo = withSetting(io, env, project);
  const bold = (text: string) => io.stdoutIsTerminal ? `\x1b[1m${text}\x1b[0m` : text;
  const say = (text: string) => io.out(`\n${bold(`# ${text}`)}\n`);
  const run = async (line: string[], runIo: Io = stepIo) => {
    io.out(`${bold(`$ upydev ${line.map(quote).join(" ")}`)}\n`);
    const code = await runCli(line, runIo, options.table());
    if (code !== 0) {
      throw new UserError(`demo step failed (exit ${code}): upydev ${line.join(" ")}`, { exitCode: code });
    }
  };

  let emulator: WssEmulator | undefined;
  try {
    io.out(`upydev demo: the WebSecureREPL flow of the guide, in a temporary home (${home})\n`);
    emulator = await startWssEmulator({ password: WEBREPL_PASSWORD, port: 0 });
    say(
      `An emulated ESP32 (real MicroPython v1.27.0) serves plain WebREPL on ws://127.0.0.1:${emulator.port}`,
    );
    await run([
      "config",
      "-t",
      `127.0.0.1:${emulator.port}`,
      "-p",
      WEBREPL_PASSWORD,
      "-@",
      DEMO_DEVICE,
      "-gg",
    ]);

    say("1. Install the device scripts (wss_repl.py, wss_helper.py, upysh.py, …) into the device's /lib");
    await run(["update_upyutils", "-@", DEMO_DEVICE]);

    say("2. ROOT CA key and self-signed certificate; -tfkey sends the certificate to the device");
    await run(["kg", "ssl", "CA", "-tfkey", "-@", DEMO_DEVICE]);

    say("3. HOST key and certificate signed by the ROOT CA");
    await run(["kg", "ssl", "host"]);

    say(
      "4. Device key and certificate; -tfkey sends them (the emulator is on loopback, so cleartext is acceptable)",
    );
    await run(["kg", "ssl", "-tfkey", "-@", DEMO_DEVICE, "--insecure-transfer"]);

    say("5. Enable WebSecureREPL in boot.py and reset the device");
    await Deno.writeTextFile(`${project}/boot.py`, BOOT_PY);
    io.out(BOOT_PY.split("\n").filter(Boolean).map((line) => `    ${line}\n`).join(""));
    await run(["put", "boot.py", "/boot.py", "-@", DEMO_DEVICE]);
    await run(["reset", "-@", DEMO_DEVICE]);
    const wssPort = await emulator.whenListening();

    say(`The device now serves WebSecureREPL on wss://127.0.0.1:${wssPort}: store the host key passphrase`);
    await run([
      "config",
      "-t",
      `127.0.0.1:${wssPort}`,
      "-p",
      `${WEBREPL_PASSWORD}:${HOST_PASSPHRASE}`,
      "-@",
      DEMO_DEVICE,
      "-gg",
    ]);
    await run(["info", "-@", DEMO_DEVICE]);

    if (options.script) {
      say("A scripted shell session over wss");
      await run(["shl@" + DEMO_DEVICE], scriptedIo(stepIo, SHELL_SCRIPT));
      io.out("\nupydev demo: done\n");
    } else {
      say("Your turn: a WebSecureREPL shell (CTRL-k keys, CTRL-s REPL, CTRL-x leaves)");
      await run(["shl@" + DEMO_DEVICE]);
    }
    return 0;
  } finally {
    await emulator?.close();
    await Deno.remove(root, { recursive: true });
  }
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** The demo's own environment and working directory over the real terminal. */
function withSetting(io: Io, env: Record<string, string>, cwd: string): Io {
  return Object.assign(Object.create(io), {
    env: (name: string) => (name in env ? env[name] : name === "XDG_CONFIG_HOME" ? undefined : io.env(name)),
    cwd: () => cwd,
  });
}

/** An Io whose standard input types `script`, each keystroke once the screen shows what it waits for. */
export function scriptedIo(io: Io, script: ScriptedKey[]): Io {
  const decoder = new TextDecoder();
  let screen = "";
  let step = 0;
  let wake: (() => void) | undefined;
  const seen = (text: string) => {
    screen += text;
    wake?.();
  };
  return Object.assign(Object.create(io), {
    stdinIsTerminal: false,
    out: (text: string) => {
      io.out(text);
      seen(text);
    },
    outBytes: (bytes: Uint8Array) => {
      io.outBytes(bytes);
      seen(decoder.decode(bytes, { stream: true }));
    },
    setRaw: () => {},
    async readStdin(): Promise<Uint8Array | null> {
      if (step >= script.length) return null;
      const { after, keys } = script[step];
      while (!screen.includes(after)) await new Promise<void>((resolve) => (wake = resolve));
      screen = "";
      step++;
      return new TextEncoder().encode(keys);
    },
  });
}
