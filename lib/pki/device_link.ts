/** The real device link for `kg ssl`: the usual device connection (lib/device/use_device.ts) as a KeyTransferLink. */
import { connectTarget } from "../device/use_device.ts";
import { pyStr } from "../webrepl/python_literal.ts";
import type { KeyTransferConnector } from "./transfer.ts";

/** Hashes a device file in 512-byte reads, so a large file never has to fit in the device's heap. */
function sha256Code(path: string): string {
  return [
    "import hashlib,binascii",
    "h=hashlib.sha256()",
    `with open(${pyStr(path)},'rb') as f:`,
    " while True:",
    "  b=f.read(512)",
    "  if not b:break",
    "  h.update(b)",
    "print(binascii.hexlify(h.digest()).decode())",
  ].join("\n");
}

export const connectKeyTransfer: KeyTransferConnector = async (target, io, configDir) => {
  const connection = await connectTarget({ io, configDir }, target);
  const text = async (code: string, options: { inactivityMs?: number } = {}) =>
    new TextDecoder().decode(await connection.session.exec(code, options));
  return {
    secure: connection.info.kind === "tls",
    exec: text,
    put: (remotePath, data) => connection.files.put(data, remotePath),
    sha256: async (remotePath) => (await text(sha256Code(remotePath))).trim(),
    close: () => connection.close(),
  };
};
