/**
 * upydev's command grammar: `upydev ACTION[@NAME] [args] [options]`, with upydev's single-dash long options
 * (`-tfkey`, `-gg`, `-wss`) and list options (`-@ a b c`). Driven by the command table; runs nothing.
 */
import type { CommandSpec, OptionSpec, ParsedArgs } from "./command.ts";
import { UsageError } from "./errors.ts";

/** Device and group names, globs and brace ranges (`dev{1..4}`); code or paths after `-@ NAME` are not names. */
export const DEVICE_NAME_PATTERN = /^[\w.*?[\]{},-]+$/;

export const HELP_OPTION: OptionSpec = {
  names: ["-h", "--help"],
  kind: "flag",
  help: "show help for this action",
};

/** `--json`: stdout carries one JSON document (shapes in the README), everything else goes to stderr. */
export const JSON_OPTION: OptionSpec = {
  names: ["--json"],
  kind: "flag",
  help: "print one JSON document on stdout (keys in the README); messages go to stderr",
};

/** Options every device action accepts. */
export const DEVICE_OPTIONS: OptionSpec[] = [
  {
    names: ["-t"],
    kind: "value",
    valueName: "ADDR",
    help: "device address: IP[:PORT], NAME.local, ws:// or wss:// URL",
  },
  {
    names: ["-p"],
    kind: "value",
    valueName: "PASS[:PASSPHRASE]",
    help: "WebREPL password; with :PASSPHRASE (host key) the link is wss",
  },
  {
    names: ["-@"],
    kind: "list",
    valueName: "NAME",
    valuePattern: DEVICE_NAME_PATTERN,
    help: "registered device name(s), globs ('esp*'), ranges (dev{1..4}), gg (all of UPY_G), group names",
  },
  {
    names: ["-G"],
    kind: "value",
    valueName: "GROUP",
    help: "run on every device of GROUP, one after another",
  },
  { names: ["-GP"], kind: "value", valueName: "GROUP", help: "run on every device of GROUP in parallel" },
  {
    names: ["--jobs"],
    kind: "value",
    valueName: "N",
    help: "devices at once in a group run (default 8; -G: 1)",
  },
  { names: ["-g"], kind: "flag", help: "use the global config instead of ./upydev_.config" },
  { names: ["-wss"], kind: "flag", help: "force WebSecureREPL (mutual TLS, port 8833)" },
  {
    names: ["--persist"],
    kind: "flag",
    inlineValue: true,
    valueName: "SECONDS",
    help: "keep the connection open in the background for later commands (idle SECONDS, default 300)",
  },
];

export function optionsOf(spec: CommandSpec): OptionSpec[] {
  return [...(spec.options ?? []), ...(spec.device ? DEVICE_OPTIONS : []), HELP_OPTION];
}

export type Invocation =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "action"; spec: CommandSpec; args: ParsedArgs; help: boolean };

export function parseCommandLine(argv: string[], table: CommandSpec[]): Invocation {
  if (argv.length === 0 || argv[0] === "-h" || argv[0] === "--help" || argv[0] === "help") {
    return { kind: "help" };
  }
  if (argv[0] === "--version" || argv[0] === "-v") return { kind: "version" };
  const [first, ...rest] = argv;
  if (first.startsWith("-")) {
    throw new UsageError(`expected an action before '${first}' (see 'upydev --help')`);
  }
  const at = first.indexOf("@");
  const actionName = at >= 0 ? first.slice(0, at) : first;
  const atName = at >= 0 ? first.slice(at + 1) : undefined;
  const spec = findAction(actionName, table);
  if (atName !== undefined) {
    if (!spec.device) throw new UsageError(`'${spec.name}' does not take a device: '${first}'`);
    if (atName === "") throw new UsageError(`missing device name after '${actionName}@'`);
  }
  const { args, help } = parseActionArguments(spec, rest, optionsOf(spec));
  return { kind: "action", spec, args: { ...args, atName }, help };
}

/**
 * An action's arguments after its name, against the options it accepts: the CLI adds the device options,
 * the shell does not.
 */
export function parseActionArguments(
  spec: Pick<CommandSpec, "name" | "usage" | "positionals">,
  rest: string[],
  options: OptionSpec[],
  /** Before the usage in error messages: the shell's commands have no `upydev ` in front. */
  usagePrefix = "upydev ",
): { args: ParsedArgs; help: boolean } {
  const parsed: ParsedArgs = { action: spec.name, positionals: [], options: {} };
  let onlyPositionals = false;
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i];
    if (onlyPositionals || !looksLikeOption(token)) {
      parsed.positionals.push(token);
      continue;
    }
    if (token === "--") {
      onlyPositionals = true;
      continue;
    }
    const [name, inlineValue] = splitInline(token);
    const option = options.find((candidate) => candidate.names.includes(name));
    if (!option) {
      const hint = closest(name, options.flatMap((candidate) => candidate.names));
      throw new UsageError(
        `unknown option '${name}' for '${spec.name}'${hint ? ` (did you mean '${hint}'?)` : ""}`,
      );
    }
    const key = option.names[0];
    if (option.kind === "flag") {
      if (inlineValue !== undefined && !option.inlineValue) {
        throw new UsageError(`option '${name}' takes no value`);
      }
      parsed.options[key] = inlineValue ?? true;
    } else if (option.kind === "value") {
      const next = rest[i + 1];
      // `-t -p pw`: a forgotten value must not swallow the next option.
      const nextIsOption = next !== undefined && options.some((candidate) => candidate.names.includes(next));
      const value = inlineValue ?? (nextIsOption ? undefined : rest[++i]);
      if (value === undefined) {
        throw new UsageError(
          `option '${name}' needs a value${option.valueName ? ` (${option.valueName})` : ""}`,
        );
      }
      parsed.options[key] = value;
    } else {
      const values: string[] = inlineValue !== undefined ? [inlineValue] : [];
      // Code (`-@ dev1 "print(1)"`, `"x = 1"`) ends the list; any other word is a value and must fit the
      // pattern, so a mistyped name (`bad/name`) is refused instead of silently becoming an argument.
      const inList = (token: string) => !looksLikeOption(token) && !/[\s()=;'"]/.test(token);
      while (i + 1 < rest.length && inList(rest[i + 1])) values.push(rest[++i]);
      const invalid = values.find((value) => option.valuePattern && !option.valuePattern.test(value));
      if (invalid !== undefined) {
        throw new UsageError(
          `invalid ${
            option.valueName ?? "value"
          } '${invalid}' after ${name} (put other arguments before ${name})`,
        );
      }
      if (values.length === 0) {
        throw new UsageError(`option '${name}' needs at least one ${option.valueName ?? "value"}`);
      }
      const previous = parsed.options[key];
      parsed.options[key] = [...(Array.isArray(previous) ? previous : []), ...values];
    }
  }
  const help = parsed.options["-h"] === true;
  if (!help) checkPositionals(spec, parsed.positionals, usagePrefix);
  return { args: parsed, help };
}

function findAction(name: string, table: CommandSpec[]): CommandSpec {
  const spec = table.find((candidate) => candidate.name === name || candidate.aliases?.includes(name));
  if (spec) return spec;
  const hint = closest(name, table.flatMap((candidate) => [candidate.name, ...(candidate.aliases ?? [])]));
  throw new UsageError(
    `unknown action '${name}'${hint ? ` (did you mean '${hint}'?)` : ""} (see 'upydev --help')`,
  );
}

function checkPositionals(
  spec: Pick<CommandSpec, "name" | "usage" | "positionals">,
  positionals: string[],
  usagePrefix: string,
): void {
  const { min, max } = spec.positionals;
  if (positionals.length < min) {
    throw new UsageError(`'${spec.name}' needs more arguments: usage: ${usagePrefix}${spec.usage}`);
  }
  if (positionals.length > max) {
    throw new UsageError(
      `unexpected argument '${positionals[max]}' for '${spec.name}': usage: ${usagePrefix}${spec.usage}`,
    );
  }
}

/** `-x`, `--xy`, `-@`; but not `-` alone or negative numbers, which are values. */
function looksLikeOption(token: string): boolean {
  return token.length > 1 && token.startsWith("-") && !/^-\d/.test(token);
}

function splitInline(token: string): [string, string | undefined] {
  if (!token.startsWith("--")) return [token, undefined];
  const eq = token.indexOf("=");
  return eq < 0 ? [token, undefined] : [token.slice(0, eq), token.slice(eq + 1)];
}

/** The nearest candidate by edit distance, when it is close enough for a "did you mean". */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
