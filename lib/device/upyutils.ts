/**
 * The device-side scripts shipped inside upydev (embedded at build time, so the single binary carries them)
 * and `update_upyutils`, which installs them into the device's /lib.
 */
import type { CommandSpec } from "../cli/command.ts";
import syncTool from "../../device/sync_tool.py" with { type: "text" };
import nanoglob from "../../device/nanoglob.py" with { type: "text" };
import shasum from "../../device/shasum.py" with { type: "text" };
import upylog from "../../device/upylog.py" with { type: "text" };
import upynotify from "../../device/upynotify.py" with { type: "text" };
import uping from "../../device/uping.py" with { type: "text" };
import upysh from "../../device/upysh.py" with { type: "text" };
import upysecrets from "../../device/upysecrets.py" with { type: "text" };
import upysh2 from "../../device/upysh2.py" with { type: "text" };
import wssRepl from "../../device/wss_repl.py" with { type: "text" };
import wssHelper from "../../device/wss_helper.py" with { type: "text" };
import { withDevice } from "./use_device.ts";
import { ProgressBar } from "../ui/progress.ts";

export interface DeviceScript {
  name: string;
  source: string;
  purpose: string;
}

export const DEVICE_SCRIPTS: DeviceScript[] = [
  { name: "sync_tool.py", source: syncTool, purpose: "bulk transfer inside the session, for get and dsync" },
  { name: "nanoglob.py", source: nanoglob, purpose: "glob(pattern, ...) with *, ? and **, and sizes" },
  { name: "shasum.py", source: shasum, purpose: "SHA-256 of files and trees, and a check mode" },
  { name: "upylog.py", source: upylog, purpose: "rotating file logger with levels (/upy.log, upydev log)" },
  { name: "upynotify.py", source: upynotify, purpose: "LED and buzzer patterns on a machine.Pin" },
  { name: "uping.py", source: uping, purpose: "ICMP echo (ping) from the device" },
  { name: "upysh.py", source: upysh, purpose: "ls, cd, pwd, cat, head, mkdir, rm, rmdir, mv, cp, touch" },
  { name: "upysecrets.py", source: upysecrets, purpose: "random WebREPL passwords (rf_wrkey)" },
  { name: "upysh2.py", source: upysh2, purpose: "tree, du, rmrf" },
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
    await withDevice(context, async (device) => {
      if (!(await device.files.stat(DEVICE_LIB_DIR))?.isDir) {
        context.io.out(`Making ${DEVICE_LIB_DIR} directory ...\n`);
        await device.files.mkdir(DEVICE_LIB_DIR);
      }
      for (const script of DEVICE_SCRIPTS) {
        const data = encoder.encode(script.source);
        const target = `${DEVICE_LIB_DIR}/${script.name}`;
        const bar = new ProgressBar(context.io, target);
        await device.files.put(data, target, (done, total) => bar.update(done, total));
        bar.finish(data.length, data.length);
        context.io.out(`${target}: ${data.length} bytes, verified\n`);
      }
    });
  },
};

export const upyutilsCommands: CommandSpec[] = [updateUpyutils];
