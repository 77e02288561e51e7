/**
 * What the shell shows about the device and itself: the connection header as upydev prints it, the banner
 * (CTRL-b) and the key list (CTRL-k, `shl --help`). Device-supplied text goes through `printable`.
 */
import type { TransportInfo } from "../transport/stream.ts";
import { printable } from "../ui/terminal_text.ts";
import type { WebReplSession } from "../webrepl/session.ts";

export interface DeviceIdentity {
  platform: string;
  version: string;
  machine: string;
  uid: string;
}

export const KEY_HINTS = [
  "- CTRL-k to see keybindings or -h to see help",
  "- CTRL-s to toggle shell/repl mode",
  '- CTRL-x or "exit" to exit',
];

export const KEYBINDINGS = [
  "Keybindings (shell mode; in REPL mode only CTRL-s, -x, -k, -e and -t, the rest go to the device):",
  "  CTRL-s       toggle shell/REPL mode",
  "  CTRL-k       show these keybindings",
  '  CTRL-x       exit (also "exit" in shell mode; exit -r / -hr reset the device first)',
  "  CTRL-c       shell: clear the line, or interrupt the code a command runs; REPL: interrupt",
  "  CTRL-d       shell: exit on an empty line; REPL: soft reset (the shell reconnects)",
  "  CTRL-e       edit a temporary script in $EDITOR; it runs on the device when the editor closes",
  "  CTRL-t       run that script again",
  "  CTRL-b       show the device's banner",
  "  CTRL-n       show the device's memory (mem)",
  "  CTRL-y       run gc.collect() on the device",
  "  CTRL-w       show device info (info)",
  "  CTRL-space   repeat the last command",
  "  CTRL-r       search the history; Enter runs, arrows edit, CTRL-g cancels",
  "  Tab          complete commands, options and paths; Shift-Tab or Tab Tab lists the candidates",
  "  Up/Down      shell history (kept across sessions)",
  "  Left/Right   move in the line; CTRL-a / End: start / end; CTRL-u: delete to the start",
];

/** Platform, firmware and unique id, read once at connect time, with control characters escaped. */
export async function identify(session: WebReplSession): Promise<DeviceIdentity> {
  const text = await session.execText(
    "import os,sys\nu=os.uname()\nprint(sys.platform)\nprint(u.version)\nprint(u.machine)\n" +
      "try:\n import machine,binascii\n print(binascii.hexlify(machine.unique_id()).decode())\n" +
      "except Exception:\n print('')",
  );
  const [platform = "", version = "", machine = "", uid = ""] = text.split(/\r?\n/).map((line) =>
    printable(line.trim())
  );
  return { platform, version, machine, uid };
}

export function banner(identity: DeviceIdentity): string[] {
  return [
    `MicroPython ${identity.version}; ${identity.machine}`,
    'Type "help()" for more information.',
  ];
}

/** The lines upydev prints on connecting: link, cipher, banner and the key hints. */
export function connectionHeader(info: TransportInfo, identity: DeviceIdentity): string[] {
  const link = info.kind === "tls"
    ? [
      `WebSecREPL with ${info.tlsProtocol ?? "TLS"} connected`,
      `${info.tlsProtocol ?? "TLS"} @ ${info.tlsCipher ?? "unknown cipher"} - ${
        info.tlsBits ?? "?"
      } bits Encryption`,
    ]
    : ["WebREPL connected", "WARNING: ENCRYPTION DISABLED IN THIS MODE"];
  return [...link, "", ...banner(identity), "", ...KEY_HINTS];
}
