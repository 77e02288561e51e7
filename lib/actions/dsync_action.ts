/** `dsync`: incremental directory sync by size and SHA-256, both directions (lib/dsync). */
import { optionFlag, optionString } from "../cli/command.ts";
import { IgnoreRules } from "../dsync/ignore.ts";
import { summaryLine } from "../dsync/plan.ts";
import { sync } from "../dsync/sync.ts";
import { UsageError } from "../cli/errors.ts";
import { hasGlob } from "../glob/pattern.ts";
import { type DeviceAction, devicePath, localPath, type PrepareContext } from "./action.ts";

export const dsync: DeviceAction = {
  name: "dsync",
  summary: "sync a local directory to the device, sending only what changed (-d: device to local)",
  usage: "dsync [LOCAL_DIR] [-d] [-rf] [-n] [--to DEVICE_DIR] [--yes] [-i PATTERN...]",
  description: "LOCAL_DIR (default: the current directory) maps to the device's / or to --to DEVICE_DIR. " +
    "Files are compared by size, then by SHA-256 computed on the device; each transfer is verified and " +
    "renamed into place. Ignore rules are gitignore's, from -i and from .upyignore in LOCAL_DIR; .git, " +
    "__pycache__, temporary files and upydev's config files are always ignored. At the device's /, -rf " +
    "never deletes boot.py, webrepl_cfg.py, ssl_config.py, the key, the certificates or lib/wss_*.py, and " +
    "-d never copies webrepl_cfg.py or the key. Give LOCAL_DIR before -i.",
  options: [
    { names: ["-d"], kind: "flag", help: "device to local: LOCAL_DIR receives the device's files" },
    {
      names: ["-rf"],
      kind: "flag",
      help: "delete files on the target side that the source lacks (listed first)",
    },
    { names: ["-n"], kind: "flag", help: "dry run: print the plan, change nothing" },
    {
      names: ["-i"],
      kind: "list",
      valueName: "PATTERN",
      help: "ignore paths matching these gitignore patterns",
    },
    { names: ["--to"], kind: "value", valueName: "DEVICE_DIR", help: "device directory (default /)" },
    { names: ["--yes"], kind: "flag", help: "confirm -rf's deletions without asking" },
  ],
  positionals: { min: 0, max: 1 },
  localFilesPerDevice: (args) => optionFlag(args, "-d"),
  async prepare(context) {
    const patterns = context.args.options["-i"];
    if (Array.isArray(patterns) && context.args.positionals.length === 0) {
      await refuseSwallowedDirectory(context, patterns);
    }
  },
  async run(context) {
    const { args } = context;
    // Here, not in prepare: a group run gives each device its own local directory.
    const localRoot = localPath(context, args.positionals[0] ?? ".");
    const patterns = args.options["-i"];
    const report = await sync(context.device.files, context.io, (text) => context.out.text(text), {
      localRoot,
      deviceRoot: devicePath(context, optionString(args, "--to") ?? "/"),
      toHost: optionFlag(args, "-d"),
      deleteExtras: optionFlag(args, "-rf"),
      dryRun: optionFlag(args, "-n"),
      confirmed: optionFlag(args, "--yes"),
      ignore: await IgnoreRules.load(localRoot, Array.isArray(patterns) ? patterns : []),
    });
    context.out.text(
      `${summaryLine(report.created.length, report.changed.length, report.deleted.length)}${
        report.dryRun ? " (dry run: nothing changed)" : ""
      }\n`,
    );
    return report;
  },
};

/**
 * `-i` takes every word up to the next option, so `dsync -i '*.md' src` ignores `src` and syncs the current
 * directory instead. When the last pattern names a local directory and no LOCAL_DIR was given, say so rather
 * than sync (and with -rf delete) against the wrong folder; `-i src/` still ignores such a directory.
 */
async function refuseSwallowedDirectory(context: PrepareContext, patterns: string[]): Promise<void> {
  const last = patterns[patterns.length - 1];
  if (hasGlob(last) || last.endsWith("/")) return;
  if ((await Deno.stat(localPath(context, last)).catch(() => null))?.isDirectory) {
    throw new UsageError(
      `-i took '${last}' as a pattern: give LOCAL_DIR before -i (dsync ${last} -i PATTERN...), ` +
        `or write '${last}/' to ignore that directory`,
    );
  }
}
