/**
 * The device-side scripts shipped inside upydev (embedded at build time, so the single binary carries them)
 * and `update_upyutils`, which installs them into the device's /lib.
 */
import type { CommandSpec } from "../cli/command.ts";
import wssRepl from "../../device/wss_repl.py" with { type: "text" };
import wssHelper from "../../device/wss_helper.py" with { type: "text" };
import { withDevice } from "./use_device.ts";
import { ProgressBar } from "../ui/progress.ts";
import { DeviceFiles } from "../ops/files.ts";

export interface DeviceScript {
  name: string;
  source: string;
  purpose: string;
}

export const DEVICE_SCRIPTS: DeviceScript[] = [
  { name: "wss_repl.py", source: wssRepl, purpose: "WebSecureREPL server (wss_repl.start(ssl=True))" },
  { name: "wss_helper.py", source: wssHelper, purpose: "WebSocket handshake over TLS for wss_repl" },
];

export const DEVICE_LIB_DIR = "/lib";
const encoder = new TextEncoder();

const updateUpyutils: CommandSpec = {
  name: "update_upyutils",
  summary: "install upydev's device scripts (wss_repl.py, wss_helper.py) into the device's /lib",
  usage: "update_upyutils",
  description: DEVICE_SCRIPTS.map((script) => `${script.name}: ${script.purpose}`).join("\n"),
  positionals: { min: 0, max: 0 },
  device: true,
  async run(context) {
    await withDevice(context, async (connection) => {
      const files = new DeviceFiles(connection.session);
      if (!(await files.stat(DEVICE_LIB_DIR))?.isDir) {
        context.io.out(`Making ${DEVICE_LIB_DIR} directory ...\n`);
        await files.mkdir(DEVICE_LIB_DIR);
      }
      for (const script of DEVICE_SCRIPTS) {
        const data = encoder.encode(script.source);
        const target = `${DEVICE_LIB_DIR}/${script.name}`;
        const bar = new ProgressBar(context.io, target);
        await files.put(data, target, (done, total) => bar.update(done, total));
        bar.finish(data.length, data.length);
        context.io.out(`${target}: ${data.length} bytes, verified\n`);
      }
    });
  },
};

export const upyutilsCommands: CommandSpec[] = [updateUpyutils];
