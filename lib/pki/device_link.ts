/** The real device link for `kg ssl`: the usual device connection (lib/device/use_device.ts) as a KeyTransferLink. */
import { connectTarget } from "../device/use_device.ts";
import { DeviceFiles } from "../ops/files.ts";
import type { KeyTransferConnector } from "./transfer.ts";

export const connectKeyTransfer: KeyTransferConnector = async (target, io, configDir) => {
  const connection = await connectTarget({ io, configDir }, target);
  const files = new DeviceFiles(connection.session);
  return {
    secure: connection.info.kind === "tls",
    exec: async (code, options = {}) =>
      new TextDecoder().decode(await connection.session.exec(code, options)),
    put: async (remotePath, data) => void await files.put(data, remotePath),
    sha256: (remotePath) => files.sha256(remotePath),
    close: () => connection.close(),
  };
};
