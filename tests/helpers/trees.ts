/** Whole trees on both sides of a sync, read byte for byte: the local folder and the emulated device's flash. */
import { join } from "node:path";
import type { EmulatedDevice } from "../../lib/emulator/emulator.ts";
import { pyStr } from "../../lib/webrepl/python_literal.ts";

/** Relative path → base64 contents; directories map to "<dir>". */
export type TreeDump = Record<string, string>;

export async function localDump(
  root: string,
  skip: (path: string) => boolean = () => false,
): Promise<TreeDump> {
  const dump: TreeDump = {};
  const walk = async (dir: string, prefix: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = prefix + entry.name;
      if (skip(path)) continue;
      if (entry.isDirectory) {
        dump[path] = "<dir>";
        await walk(join(dir, entry.name), `${path}/`);
      } else dump[path] = (await Deno.readFile(join(dir, entry.name))).toBase64();
    }
  };
  await walk(root, "");
  return sorted(dump);
}

/**
 * Read through the device's Python, not through the code under test: a line per entry as it goes (the
 * emulator restarts a device that prints nothing for 20 s), contents in hex (its base64 is pure Python, slow).
 */
export async function deviceDump(device: EmulatedDevice, root: string): Promise<TreeDump> {
  const { output, error } = await device.runPython(
    "import os,json,binascii\ndef w(p,q):\n for e in os.ilistdir(p):\n  f=(p if p!='/' else '')+'/'+e[0]\n" +
      "  if e[1]&0x4000:\n   print(json.dumps([q+e[0],None]))\n   w(f,q+e[0]+'/')\n  else:\n" +
      "   with open(f,'rb') as h:print(json.dumps([q+e[0],binascii.hexlify(h.read()).decode()]))\n" +
      `try:\n w(${pyStr(root)},'')\nexcept OSError:\n pass`,
  );
  if (error) throw new Error(`cannot read the device's ${root}: ${error}`);
  const dump: TreeDump = {};
  for (const line of output.split(/\r?\n/).filter((line) => line !== "")) {
    const [path, hex] = JSON.parse(line) as [string, string | null];
    dump[path] = hex === null ? "<dir>" : Uint8Array.fromHex(hex).toBase64();
  }
  return sorted(dump);
}

function sorted(dump: TreeDump): TreeDump {
  return Object.fromEntries(Object.entries(dump).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
