/** Runs the real CLI in-process with a recording Io and a temporary HOME/cwd. */
import "npm:reflect-metadata@0.2.2";
import { runCli } from "../../lib/cli/run.ts";
import { commandTable } from "../../lib/cli/table.ts";
import { recordingIo } from "../../lib/ui/io.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  home: string;
  cwd: string;
  configDir: string;
  env: Record<string, string>;
  run(...argv: string[]): Promise<CliResult>;
  cleanup(): Promise<void>;
}

export async function sandbox(env: Record<string, string> = {}): Promise<Sandbox> {
  const home = await Deno.makeTempDir({ prefix: "upydev-home-" });
  const cwd = `${home}/project`;
  await Deno.mkdir(cwd);
  const fullEnv = { HOME: home, USER: "carlo", ...env };
  return {
    home,
    cwd,
    configDir: `${home}/.config/upydev`,
    env: fullEnv,
    async run(...argv) {
      const io = recordingIo({ env: fullEnv, cwd });
      const code = await runCli(argv, io, commandTable());
      return { code, stdout: io.stdout, stderr: io.stderr };
    },
    cleanup: () => Deno.remove(home, { recursive: true }),
  };
}
