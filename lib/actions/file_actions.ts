/**
 * File actions: listing, reading, transfers and changes on the device's filesystem, each one a DeviceFiles
 * operation (lib/ops) plus how its result is shown. Device-supplied names always pass through `printable`.
 */
import { UsageError, UserError } from "../cli/errors.ts";
import type { OptionSpec } from "../cli/command.ts";
import { optionFlag, optionString } from "../cli/command.ts";
import type { RemoteStat } from "../ops/files.ts";
import { remoteBasename, remoteDirname } from "../ops/paths.ts";
import { dirname } from "node:path";
import { describeTransfer, downloadFile, readLocalFile, uploadFile } from "../ops/transfers.ts";
import { getSources, type LocalSource, localSource, putSources } from "../dsync/copy.ts";
import { expandDevicePaths } from "../glob/device.ts";
import { expandLocalPaths } from "../glob/local.ts";
import { hasGlob } from "../glob/pattern.ts";
import { printable } from "../ui/terminal_text.ts";
import { type ActionContext, type ActionOutput, type DeviceAction, devicePath, localPath } from "./action.ts";
import { columns, formatBytes } from "./format.ts";

const RECURSIVE: OptionSpec = { names: ["-r"], kind: "flag", help: "include subdirectories, recursively" };

export const ls: DeviceAction = {
  name: "ls",
  summary: "list device directories (-l: with sizes; -r: recursively; -a: also dot files)",
  usage: "ls [-l] [-r] [-a] [PATH...]",
  options: [
    { names: ["-l"], kind: "flag", help: "one entry per line with its size" },
    RECURSIVE,
    { names: ["-a"], kind: "flag", help: "also names starting with '.'" },
  ],
  positionals: { min: 0, max: Infinity },
  async run(context) {
    const { args, device, out } = context;
    const paths = args.positionals.length > 0 ? await expandDevicePaths(context, args.positionals) : ["."];
    const recursive = optionFlag(args, "-r");
    const long = optionFlag(args, "-l");
    const all = optionFlag(args, "-a");
    const listings: { path: string; entries: RemoteStat[] }[] = [];
    for (const path of paths) {
      const target = devicePath(context, path);
      const entries = (await device.files.list(target, { recursive }))
        .filter((entry) =>
          all || !relativeName(target, entry).split("/").some((part) => part.startsWith("."))
        );
      listings.push({ path: target, entries });
    }
    for (const [i, { path, entries }] of listings.entries()) {
      if (listings.length > 1) out.text(`${i > 0 ? "\n" : ""}${printable(path)}:\n`);
      showListing(out, path, entries, long);
    }
    return listings;
  },
};

function relativeName(directory: string, entry: RemoteStat): string {
  const prefix = directory === "/" ? "/" : `${directory}/`;
  return entry.path === directory ? remoteBasename(entry.path) : entry.path.slice(prefix.length);
}

function showListing(out: ActionOutput, directory: string, entries: RemoteStat[], long: boolean): void {
  const names = entries.map((entry) => {
    const name = printable(relativeName(directory, entry)) + (entry.isDir ? "/" : "");
    return { entry, name, shown: entry.isDir ? out.paint("directory", name) : name };
  });
  if (long) {
    for (const { entry, shown } of names) {
      out.text(`${entry.isDir ? "<dir>".padStart(10) : String(entry.size).padStart(10)}  ${shown}\n`);
    }
  } else if (out.terminal) {
    out.text(columns(names.map(({ name, shown }) => ({ width: name.length, text: shown })), out.width));
  } else {
    for (const { shown } of names) out.text(`${shown}\n`);
  }
}

export const cat: DeviceAction = {
  name: "cat",
  summary: "print device files",
  usage: "cat FILE...",
  positionals: { min: 1, max: Infinity },
  async run(context) {
    for (const path of await expandDevicePaths(context, context.args.positionals)) {
      const data = await context.device.files.get(devicePath(context, path));
      context.out.bytes(data);
      if (context.out.terminal && data.length > 0 && data[data.length - 1] !== 0x0a) context.out.text("\n");
    }
  },
};

export const head: DeviceAction = {
  name: "head",
  summary: "print the first lines of device files",
  usage: "head [-n N] FILE...",
  options: [{ names: ["-n"], kind: "value", valueName: "N", help: "how many lines (default 10)" }],
  positionals: { min: 1, max: Infinity },
  async run(context) {
    const lines = wholeNumber(optionString(context.args, "-n") ?? "10", "-n");
    for (const path of await expandDevicePaths(context, context.args.positionals)) {
      context.out.bytes(await context.device.files.head(devicePath(context, path), lines));
    }
  },
};

export const put: DeviceAction<LocalSource[]> = {
  name: "put",
  summary: "upload files to the device (verified by size and SHA-256; -r: directories)",
  usage: "put [-r] SRC [DST]",
  description: "DST defaults to the current device directory; a DST that is a directory on the device " +
    "receives SRC's name. SRC may be a pattern ('src/*.py'), or a directory with -r: DST is then a device " +
    "directory. Missing directories on the device are created.",
  options: [
    { names: ["-r"], kind: "flag", help: "copy directories and everything in them" },
    {
      names: ["--in-place"],
      kind: "flag",
      help: "when the flash has no room for two copies, remove the old file first (lost if the upload fails)",
    },
  ],
  positionals: { min: 1, max: 2 },
  async prepare(context) {
    const recursive = optionFlag(context.args, "-r");
    const sources = await expandLocalPaths(context.localCwd, context.args.positionals.slice(0, 1));
    return await Promise.all(
      sources.map((source) => localSource(source, localPath(context, source), recursive)),
    );
  },
  async run(context) {
    const [source, ...more] = context.prepared;
    const destination = context.args.positionals[1];
    const target = destination === undefined ? context.cwd : devicePath(context, destination);
    if (more.length > 0 || source.isDir || hasGlob(context.args.positionals[0])) {
      return await putSources(context.device.files, context.io, context.prepared, target, context.out.text);
    }
    const into = destination === undefined || destination.endsWith("/");
    // A DST naming a file in a missing directory: create the directory, as for several files.
    const parent = into ? target : remoteDirname(target);
    if (parent !== "/" && parent !== context.cwd) await context.device.files.mkdir(parent);
    const file = { ...await readLocalFile(context.io, source.path), path: source.typed };
    const report = await uploadFile(context.device.files, context.io, file, into ? `${target}/` : target, {
      inPlace: optionFlag(context.args, "--in-place"),
    });
    context.out.text(`${describeTransfer(report)}\n`);
    return [report];
  },
};

export const get: DeviceAction = {
  name: "get",
  summary: "download files from the device (-r: directories)",
  usage: "get [-r] SRC [DST]",
  description: "DST defaults to SRC's name in the current local directory; a local directory receives " +
    "SRC's name. SRC may be a pattern ('/logs/*.txt'), or a directory with -r: DST is then a local " +
    "directory. Missing local directories are created. Over several devices each device's files go into a " +
    "local folder named after it (./NAME/DST).",
  options: [{ names: ["-r"], kind: "flag", help: "copy directories and everything in them" }],
  positionals: { min: 1, max: 2 },
  localFilesPerDevice: () => true,
  async run(context) {
    const [pattern, destination] = context.args.positionals;
    const sources = (await expandDevicePaths(context, [pattern])).map((source) =>
      devicePath(context, source)
    );
    const recursive = optionFlag(context.args, "-r");
    if (sources.length > 1 || recursive || hasGlob(pattern)) {
      return await getSources(
        context.device.files,
        context.io,
        sources,
        context.localCwd,
        destination ?? ".",
        recursive,
        context.out.text,
      );
    }
    const local = destination ?? remoteBasename(sources[0]);
    if (destination !== undefined) {
      const path = localPath(context, destination);
      await Deno.mkdir(destination.endsWith("/") ? path : dirname(path), { recursive: true });
    }
    const report = await downloadFile(context.device.files, context.io, sources[0], local, context.localCwd);
    context.out.text(`${describeTransfer({ ...report, from: printable(report.from) })}\n`);
    return [report];
  },
};

export const rm: DeviceAction = {
  name: "rm",
  summary: "remove device files (-r: directories with everything in them)",
  usage: "rm [-r] PATH...",
  options: [{ names: ["-r", "-rf"], kind: "flag", help: "remove directories and everything in them" }],
  positionals: { min: 1, max: Infinity },
  async run(context) {
    const removed = [];
    for (const path of await expandDevicePaths(context, context.args.positionals)) {
      const target = devicePath(context, path);
      await context.device.files.rm(target, { recursive: optionFlag(context.args, "-r") });
      removed.push(target);
    }
    return { removed };
  },
};

export const rmdir: DeviceAction = {
  name: "rmdir",
  summary: "remove empty device directories",
  usage: "rmdir DIR...",
  positionals: { min: 1, max: Infinity },
  async run(context) {
    for (const path of await expandDevicePaths(context, context.args.positionals)) {
      await context.device.files.rmdir(devicePath(context, path));
    }
  },
};

export const mkdir: DeviceAction = {
  name: "mkdir",
  summary: "create device directories (with missing parents)",
  usage: "mkdir DIR...",
  positionals: { min: 1, max: Infinity },
  async run(context) {
    for (const path of context.args.positionals) await context.device.files.mkdir(devicePath(context, path));
  },
};

export const touch: DeviceAction = {
  name: "touch",
  summary: "create empty device files (existing files are left as they are)",
  usage: "touch FILE...",
  positionals: { min: 1, max: Infinity },
  async run(context) {
    for (const path of context.args.positionals) await context.device.files.touch(devicePath(context, path));
  },
};

/** mv and cp: SRC DST, or several sources into a directory. */
function twoPlaces(
  name: "mv" | "cp",
  summary: string,
  apply: (context: ActionContext, source: string, destination: string) => Promise<string>,
): DeviceAction {
  return {
    name,
    summary,
    usage: `${name} SRC... DST`,
    description: "With several sources, DST must be a directory on the device.",
    positionals: { min: 2, max: Infinity },
    async run(context) {
      const words = context.args.positionals;
      const destination = devicePath(context, words[words.length - 1]);
      const sources = (await expandDevicePaths(context, words.slice(0, -1))).map((word) =>
        devicePath(context, word)
      );
      if (sources.length > 1 && !(await context.device.files.stat(destination))?.isDir) {
        throw new UserError(`${name}: ${printable(destination)} is not a directory on the device`);
      }
      const done = [];
      for (const source of sources) {
        done.push({ from: source, to: await apply(context, source, destination) });
      }
      return done;
    },
  };
}

export const mv = twoPlaces(
  "mv",
  "move or rename device files and directories",
  (context, source, destination) => context.device.files.move(source, destination),
);

export const cp = twoPlaces(
  "cp",
  "copy device files (on the device: no bytes cross the link)",
  (context, source, destination) => context.device.files.copy(source, destination),
);

export const tree: DeviceAction = {
  name: "tree",
  summary: "show a device directory as a tree",
  usage: "tree [-a] [DIR]",
  options: [{ names: ["-a"], kind: "flag", help: "also names starting with '.'" }],
  positionals: { min: 0, max: 1 },
  async run(context) {
    const root = devicePath(context, context.args.positionals[0] ?? ".");
    const all = optionFlag(context.args, "-a");
    const entries = (await context.device.files.list(root, { recursive: true }))
      .filter((entry) => all || !relativeName(root, entry).split("/").some((part) => part.startsWith(".")));
    const { out } = context;
    out.text(`${out.paint("directory", printable(root))}\n`);
    const byParent = new Map<string, RemoteStat[]>();
    for (const entry of entries) {
      const parent = entry.path.slice(0, entry.path.lastIndexOf("/")) || "/";
      byParent.set(parent, [...(byParent.get(parent) ?? []), entry]);
    }
    let directories = 0;
    let files = 0;
    const draw = (directory: string, indent: string) => {
      const children = byParent.get(directory) ?? [];
      children.forEach((child, i) => {
        const last = i === children.length - 1;
        const name = printable(remoteBasename(child.path));
        out.text(`${indent}${last ? "└── " : "├── "}${child.isDir ? out.paint("directory", name) : name}\n`);
        if (child.isDir) {
          directories++;
          draw(child.path, indent + (last ? "    " : "│   "));
        } else files++;
      });
    };
    draw(root, "");
    out.text(
      `\n${directories} ${directories === 1 ? "directory" : "directories"}, ${files} ${
        files === 1 ? "file" : "files"
      }\n`,
    );
    return { root, entries };
  },
};

export const du: DeviceAction = {
  name: "du",
  summary: "disk usage of device files and directories (recursive sizes)",
  usage: "du [PATH...]",
  positionals: { min: 0, max: Infinity },
  async run(context) {
    const paths = context.args.positionals.length > 0
      ? await expandDevicePaths(context, context.args.positionals)
      : ["."];
    const usage = [];
    for (const path of paths) {
      const target = devicePath(context, path);
      const entries = await context.device.files.list(target, { recursive: true });
      const totals = new Map<string, number>();
      for (const entry of entries.filter((entry) => !entry.isDir)) {
        for (let dir = entry.path; dir !== target && dir.length > target.length;) {
          dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
          totals.set(dir, (totals.get(dir) ?? 0) + entry.size);
        }
      }
      const single = entries.length === 1 && entries[0].path === target && !entries[0].isDir;
      const rows = single ? [{ path: target, size: entries[0].size }] : [
        ...entries.filter((entry) => entry.isDir).map((entry) => ({
          path: entry.path,
          size: totals.get(entry.path) ?? 0,
        })),
        { path: target, size: totals.get(target) ?? 0 },
      ];
      for (const row of rows) {
        context.out.text(`${formatBytes(row.size).padStart(10)}  ${printable(row.path)}\n`);
      }
      usage.push(...rows);
    }
    return usage;
  },
};

export const df: DeviceAction = {
  name: "df",
  summary: "size, used and free space of the device's filesystem (os.statvfs)",
  usage: "df [PATH]",
  positionals: { min: 0, max: 1 },
  async run(context) {
    const usage = await context.device.files.filesystem(
      devicePath(context, context.args.positionals[0] ?? "/"),
    );
    const percent = usage.total > 0 ? Math.round((usage.used / usage.total) * 100) : 0;
    context.out.text(
      `${"Filesystem".padEnd(12)}${"Size".padStart(10)}${"Used".padStart(10)}${"Free".padStart(10)}  Use%\n` +
        `${printable(usage.path).padEnd(12)}${formatBytes(usage.total).padStart(10)}${
          formatBytes(usage.used).padStart(10)
        }${formatBytes(usage.free).padStart(10)}  ${String(percent).padStart(3)}%\n`,
    );
    return usage;
  },
};

export const shasum: DeviceAction = {
  name: "shasum",
  summary: "SHA-256 of device files, or of every file under device directories (computed on the device)",
  usage: "shasum PATH...",
  description: "Prints 'HASH  PATH' lines, as sha256sum does; one device round trip for any number of files.",
  positionals: { min: 1, max: Infinity },
  async run(context) {
    const targets = (await expandDevicePaths(context, context.args.positionals))
      .map((path) => devicePath(context, path));
    return await context.device.files.hashes(
      targets,
      (hash) => context.out.text(`${hash.sha256}  ${printable(hash.path)}\n`),
    );
  },
};

function wholeNumber(text: string, option: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${option} takes a whole number, not '${text}'`);
  return Number(text);
}

export const FILE_ACTIONS: DeviceAction<unknown>[] = [
  ls,
  cat,
  head,
  put,
  get,
  rm,
  rmdir,
  mkdir,
  touch,
  mv,
  cp,
  tree,
  du,
  df,
  shasum,
];
