/** Help texts, generated from the command table so they never drift from the parser. */
import type { CommandSpec, OptionSpec } from "./command.ts";
import { optionsOf } from "./parse.ts";

export function globalHelp(table: CommandSpec[], version: string): string {
  const width = Math.max(...table.map((spec) => spec.name.length)) + 2;
  const lines = [
    `upydev ${version}: secure remote shell and file manager for MicroPython devices over WiFi`,
    "",
    "usage: upydev ACTION [args] [options]",
    "       upydev ACTION@NAME [args]        (a device of the group UPY_G, see 'upydev gg')",
    "",
    "actions:",
    ...table.map((spec) => `  ${spec.name.padEnd(width)}${spec.summary}`),
    "",
    "device options: -t ADDR  -p PASS[:PASSPHRASE]  -@ NAME...  -g  -wss",
    "groups:         -@ a b 'esp*' dev{1..4} gg GROUP  -G GROUP  -GP GROUP  --jobs N;  --json for scripts",
    "'upydev ACTION --help' shows an action's options; 'upydev --version' the version.",
    "",
  ];
  return lines.join("\n");
}

export function actionHelp(spec: CommandSpec): string {
  const options = optionsOf(spec);
  const labels = options.map(optionLabel);
  const width = Math.max(...labels.map((label) => label.length)) + 2;
  const lines = [
    `usage: upydev ${spec.usage}`,
    "",
    spec.summary,
    ...(spec.description ? ["", spec.description] : []),
    "",
    "options:",
    ...options.map((option, i) => `  ${labels[i].padEnd(width)}${option.help}`),
    "",
  ];
  return lines.join("\n");
}

function optionLabel(option: OptionSpec): string {
  const names = option.names.join(", ");
  if (option.kind === "flag") return option.inlineValue ? `${names}[=${option.valueName ?? "VALUE"}]` : names;
  return `${names} ${option.valueName ?? "VALUE"}${option.kind === "list" ? "..." : ""}`;
}
