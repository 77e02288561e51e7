/**
 * Programs the shell starts on this computer: `!cmd` in the local shell and `$EDITOR` for CTRL-e. They get the
 * real terminal: raw mode off while they run, and Ctrl-C goes to them only (the shell survives it).
 */
import { UserError } from "../cli/errors.ts";
import type { Io } from "../ui/io.ts";

/** Runs `argv` on the terminal; resolves with its exit code. */
export async function runOnTerminal(io: Io, argv: string[], cwd: string): Promise<number> {
  io.setRaw(false);
  const release = io.onInterrupt(() => {});
  try {
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    return (await child.status).code;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UserError(`${argv[0]}: not found on this computer`);
    throw error;
  } finally {
    release();
    io.setRaw(true);
  }
}

/** `command` for the user's shell ($SHELL, else /bin/sh; cmd on Windows). */
export function localShell(io: Io, command: string): string[] {
  if (Deno.build.os === "windows") return ["cmd", "/c", command];
  return [io.env("SHELL") ?? "/bin/sh", "-c", command];
}

/** The user's editor on `path`: $VISUAL, $EDITOR (which may carry arguments, e.g. "code -w"), else vi. */
export function editorCommand(io: Io, path: string): string[] {
  const editor = io.env("VISUAL") ?? io.env("EDITOR") ?? (Deno.build.os === "windows" ? "notepad" : "vi");
  if (Deno.build.os === "windows") return ["cmd", "/c", `${editor} "${path}"`];
  // The path goes in as "$1", never into the command text, so no file name can inject shell syntax.
  return ["/bin/sh", "-c", `${editor} "$1"`, "upydev-editor", path];
}
