/**
 * The command table's entry shape. Parsing (lib/cli/parse.ts) is driven by these specs and never runs code;
 * execution calls `run` with the parsed arguments. Each concept folder exports its own specs
 * (e.g. lib/config/commands.ts; device actions come from lib/actions/table.ts) and lib/cli/table.ts lists them all.
 */
import type { Io } from "../ui/io.ts";
import type { DeviceTarget } from "../device/target.ts";
import type { Selection } from "../config/resolve.ts";

export type OptionKind =
  /** A flag: `-tfkey`, `--force`. */
  | "flag"
  /** One value: `-t ADDR`, `--port 8266`. */
  | "value"
  /** Values up to the next option: `-@ a b c`. */
  | "list";

export interface OptionSpec {
  /** Every spelling, first is canonical and is the key in `ParsedArgs.options`: ["-t"], ["--force"], ["-h", "--help"]. */
  names: string[];
  kind: OptionKind;
  /** Placeholder in help, e.g. "ADDR". */
  valueName?: string;
  /** For lists: every word up to the next option must match; only code with spaces (`-@ dev1 "x = 1"`) ends it. */
  valuePattern?: RegExp;
  /** For flags: `--name=VALUE` is accepted too, and the value replaces `true` (`--persist[=SECONDS]`). */
  inlineValue?: boolean;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** Other names for the same action (e.g. "shell" for "shl"). */
  aliases?: string[];
  /** One line for `upydev --help`. */
  summary: string;
  /** Usage after `upydev `, e.g. "put SRC [DST]". */
  usage: string;
  /** Longer help text for `upydev ACTION --help` (optional). */
  description?: string;
  /** Options specific to this action. Device actions also get -t, -p, -@, -g, -wss automatically. */
  options?: OptionSpec[];
  /** Number of positional arguments accepted. */
  positionals: { min: number; max: number };
  /** Whether the action talks to a device (accepts -t/-p/-@/ACTION@NAME). */
  device: boolean;
  run(context: CommandContext): Promise<number | void>;
}

export type OptionValue = string | boolean | string[];

export interface ParsedArgs {
  /** Canonical action name. */
  action: string;
  /** NAME from `ACTION@NAME`. */
  atName?: string;
  positionals: string[];
  /** Keyed by the canonical option name, e.g. "-t", "--force", "-@". */
  options: Record<string, OptionValue | undefined>;
}

export interface CommandContext {
  args: ParsedArgs;
  io: Io;
  /** Per-user config directory (`$XDG_CONFIG_HOME/upydev` or `~/.config/upydev`). */
  configDir: string;
  /**
   * The device this command addresses, from `ACTION@NAME`, `-@ NAME`, `-t`/`-p`, or the config files.
   * Throws a UserError when none can be resolved.
   */
  resolveDevice(): Promise<DeviceTarget>;
  /** Every device the command line selects (`-@` lists, globs, groups), for commands that run over groups. */
  resolveSelection(): Promise<Selection>;
}

export function optionString(args: ParsedArgs, name: string): string | undefined {
  const value = args.options[name];
  return typeof value === "string" ? value : undefined;
}

export function optionFlag(args: ParsedArgs, name: string): boolean {
  return args.options[name] === true;
}
