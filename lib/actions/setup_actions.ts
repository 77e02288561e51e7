/** Setting a device up: installing upydev's device scripts. */
import { DEVICE_SCRIPTS, formatInstallReport, installUpyutils, selectScripts } from "../ops/upyutils.ts";
import type { DeviceAction } from "./action.ts";

export const updateUpyutils: DeviceAction<ReturnType<typeof selectScripts>> = {
  name: "update_upyutils",
  summary: "install upydev's device scripts into the device's /lib (only those that changed)",
  usage: "update_upyutils [NAME...]",
  description: "Installs all of them, or only the NAMEs given (e.g. upysh nanoglob), skipping any whose\n" +
    "SHA-256 on the device already matches. Prints one line per script: installed, updated or unchanged.\n\n" +
    DEVICE_SCRIPTS.map((script) => `${script.name}: ${script.purpose}`).join("\n"),
  positionals: { min: 0, max: Infinity },
  prepare: (context) => Promise.resolve(selectScripts(context.args.positionals)),
  async run({ device, out, prepared }) {
    const report = await installUpyutils(device.files, prepared);
    out.text(formatInstallReport(report));
    return report;
  },
};

export const SETUP_ACTIONS: DeviceAction<unknown>[] = [updateUpyutils];
