/**
 * The shell-repl as a user drives it, in a real pseudo-terminal (tmux), over ws and over wss: Tab completion,
 * globs, `&&` with `>`, CTRL-e with $EDITOR, the REPL round trip, and `exit -r`.
 */
import { assert, assertStringIncludes } from "./helpers/assert.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { HOST_PASS, hostWithCa, WEBREPL_PASSWORD, wssDeviceFor } from "./helpers/wss.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function tmux(...args: string[]): Promise<string> {
  const output = await new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
  if (!output.success) throw new Error(`tmux ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  return new TextDecoder().decode(output.stdout);
}

/** The whole scrollback, so earlier output is still there to assert on. */
async function screen(session: string): Promise<string> {
  return await tmux("capture-pane", "-p", "-J", "-S", "-", "-t", session);
}

async function screenShows(session: string, text: string, timeoutMs = 30_000): Promise<string> {
  const start = Date.now();
  let shown = "";
  while (Date.now() - start < timeoutMs) {
    shown = await screen(session);
    if (shown.includes(text)) return shown;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`screen never showed ${JSON.stringify(text)}:\n${shown}`);
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

/**
 * Types `keys` (tmux key names, or literal text with `literal`), waits for one more `expect` on screen and then
 * for the screen to end with `settle` (the next prompt), so the next keys go to a ready shell.
 */
async function typeAndWait(
  session: string,
  keys: string[],
  expect: string,
  settle: string,
  literal = false,
): Promise<string> {
  const seen = occurrences(await screen(session), expect);
  await tmux("send-keys", "-t", session, ...(literal ? ["-l"] : []), ...keys);
  const start = Date.now();
  let shown = "";
  while (Date.now() - start < 30_000) {
    shown = await screen(session);
    if (occurrences(shown, expect) > seen && shown.trimEnd().endsWith(settle)) return shown;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`screen never showed ${JSON.stringify(expect)} then ${JSON.stringify(settle)}:\n${shown}`);
}

/** What a command printed: the screen after its last echo, up to the next prompt. */
function outputOf(shown: string, command: string, prompt: string): string {
  const after = shown.slice(shown.lastIndexOf(command) + command.length);
  return after.slice(0, after.indexOf(prompt));
}

/**
 * The scenario both links run; `home` is the session's local directory (EDITOR writes the script there).
 * `inLib` runs link-specific steps in ~/lib, before `exit -r`.
 */
async function scenario(
  session: string,
  home: string,
  prompt: string,
  bootLine: string,
  inLib?: (lib: string) => Promise<void>,
): Promise<string> {
  // Tab completes a device name.
  await typeAndWait(session, ["cat bo"], "cat bo", "cat bo", true);
  await typeAndWait(session, ["Tab"], "cat boot.py", "cat boot.py");
  await typeAndWait(session, ["Enter"], bootLine, prompt);
  await typeAndWait(session, ["touch x.bin && touch y.bin && ls", "Enter"], "y.bin", prompt);
  const removed = await typeAndWait(session, ["rm *.bin && ls", "Enter"], "rm *.bin && ls", prompt);
  const listed = outputOf(removed, "rm *.bin && ls", prompt);
  assert(listed.includes("boot.py") && !listed.includes(".bin"), `rm *.bin && ls showed:\n${removed}`);
  await typeAndWait(session, ["touch a.txt && ls > listing.txt", "Enter"], "listing.txt", prompt);
  const listing = await Deno.readTextFile(`${home}/listing.txt`);
  assert(listing.split("\n").includes("a.txt"), `listing.txt: ${JSON.stringify(listing)}`);
  assert(!listing.includes("\x1b"), "no colour in a file");
  // CTRL-e: the editor (a script here) writes code; it runs on the device when the editor exits.
  await typeAndWait(session, ["C-e"], "edited 42", prompt);
  await typeAndWait(session, ["C-s"], ">>>", ">>>");
  await typeAndWait(session, ["print('pty', 6*7)", "Enter"], "pty 42", ">>>");
  await typeAndWait(session, ["C-s"], prompt, prompt);
  await typeAndWait(session, ["C-k"], "CTRL-e       edit a temporary script in $EDITOR", prompt);
  // Keys that show the device: memory, info; CTRL-r finds an earlier line and Enter runs it again.
  await typeAndWait(session, ["C-n"], "heap", prompt);
  await typeAndWait(session, ["C-w"], "unique id:", prompt);
  await tmux("send-keys", "-t", session, "C-r");
  await typeAndWait(session, ["rm *"], "(reverse-i-search)'rm *': rm *.bin && ls", "rm *.bin && ls", true);
  await typeAndWait(session, ["Enter"], "rm: no match: *.bin", prompt);
  // Local commands: lls, and !CMD on the real terminal.
  await typeAndWait(session, ["lls", "Enter"], "listing.txt", prompt);
  await typeAndWait(session, ["!echo local-$((6*7))", "Enter"], "local-42", prompt);
  // A device name with an escape sequence is shown escaped, not obeyed; Shift-Tab lists what Tab completes.
  await typeAndWait(session, [`exec "open('evil\\x1b[2J.py','w').close()"`, "Enter"], "exec", prompt);
  await typeAndWait(session, ["ls", "Enter"], "evil\\x1b[2J.py", prompt);
  await typeAndWait(session, ["cat ", "BTab"], "evil\\x1b[2J.py", "cat");
  await typeAndWait(session, ["C-u", "rm evil*", "Enter"], "rm evil*", prompt);
  // Colour on a terminal: the prompt is green.
  const coloured = await tmux("capture-pane", "-p", "-e", "-t", session);
  const promptLine = coloured.split("\n").findLast((line) => line.includes("esp32@esp_room1:~ $")) ?? "";
  assert(promptLine.includes("32m"), `no green prompt: ${JSON.stringify(promptLine)}`);
  const lib = "esp32@esp_room1:~/lib $";
  await typeAndWait(session, ["mkdir lib && cd lib", "Enter"], lib, lib);
  // CTRL-d in REPL mode: a soft reset; the shell reconnects (no second passphrase over wss) and stays in lib.
  await typeAndWait(session, ["C-s"], ">>>", ">>>");
  await typeAndWait(session, ["C-d"], "reconnected to 127.0.0.1:", ">>>");
  await typeAndWait(session, ["C-s"], lib, lib);
  await inLib?.(lib);
  const exit = await typeAndWait(session, ["exit -r", "Enter"], "exit status 0", "exit status 0");
  assertStringIncludes(exit, "soft reset: 127.0.0.1:");
  assertStringIncludes(exit, "Connection to esp_room1 closed.");
  return exit;
}

async function fakeEditor(dir: string): Promise<string> {
  const path = `${dir}/fake_editor.sh`;
  await Deno.writeTextFile(path, `#!/bin/sh\nprintf "print('edited', 6*7)\\n" > "$1"\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test("shl session in a pseudo-terminal over ws: Tab, globs, && and >, CTRL-e, CTRL-s, exit -r", async () => {
  const emu = await startEmulator({ password: "ptypw", port: 0 });
  const home = await Deno.makeTempDir({ prefix: "upydev-pty-" });
  const session = `upydev-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(`${home}/.config/upydev`, { recursive: true });
    await Deno.writeTextFile(
      `${home}/.config/upydev/UPY_G.config`,
      JSON.stringify({ esp_room1: [`127.0.0.1:${emu.port}`, "ptypw"] }),
    );
    const command = `cd ${home} && HOME=${home} XDG_CONFIG_HOME= EDITOR=${await fakeEditor(home)} ` +
      `${ROOT}scripts/deno.sh run -A ${ROOT}main.ts shl@esp_room1; echo "exit status $?"; sleep 30`;
    await tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "50", "bash", "-c", command);
    await screenShows(session, "esp32@esp_room1:~ $");
    const shown = await scenario(
      session,
      home,
      "esp32@esp_room1:~ $",
      "# This file is executed on every boot",
    );
    assertStringIncludes(shown, "WARNING: ENCRYPTION DISABLED IN THIS MODE");
    // The history is kept for the next session.
    const history = await Deno.readTextFile(`${home}/.config/upydev/shl_history`);
    assertStringIncludes(history, "touch a.txt && ls > listing.txt\n");
  } finally {
    await tmux("kill-session", "-t", session).catch(() => "");
    await emu.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("shl session in a pseudo-terminal over wss: the same session through mutual TLS", async () => {
  const box = await hostWithCa();
  const { device, port } = await wssDeviceFor(box);
  const session = `upydev-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeTextFile(
      `${box.configDir}/UPY_G.config`,
      JSON.stringify({ esp_room1: [`wss://127.0.0.1:${port}`, WEBREPL_PASSWORD] }),
    );
    const command = `cd ${box.cwd} && HOME=${box.home} USER=${box.env.USER} XDG_CONFIG_HOME= ` +
      `UPYDEV_PASSPHRASE= EDITOR=${await fakeEditor(box.cwd)} ` +
      `${ROOT}scripts/deno.sh run -A ${ROOT}main.ts shl@esp_room1; echo "exit status $?"; sleep 30`;
    await tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "50", "bash", "-c", command);
    await screenShows(session, "Enter passphrase for key 'HOST_key@");
    await tmux("send-keys", "-t", session, "-l", HOST_PASS);
    await tmux("send-keys", "-t", session, "Enter");
    await screenShows(session, "esp32@esp_room1:~ $");
    const registry = `${box.configDir}/UPY_G.config`;
    const shown = await scenario(
      session,
      box.cwd,
      "esp32@esp_room1:~ $",
      "wss_repl.start(ssl=True)",
      async (lib) => {
        // rf_wrkey: a new password inside TLS; the shell logs in again with it and stays in lib.
        await typeAndWait(session, ["rf_wrkey", "Enter"], "reconnected to 127.0.0.1:", lib);
        const [, password] = JSON.parse(await Deno.readTextFile(registry)).esp_room1;
        assert(/^[A-Za-z0-9]{9}$/.test(password) && password !== WEBREPL_PASSWORD, `registry: ${password}`);
        const printed = await typeAndWait(
          session,
          [`exec "print(repr('${password}') in open('/webrepl_cfg.py').read())"`, "Enter"],
          "True",
          lib,
        );
        assertStringIncludes(printed, "WebREPL password changed on 127.0.0.1:");
        assertStringIncludes(printed, `registry updated: ${registry}`);
        assertStringIncludes(printed, `rf_wrkey: reconnecting to 127.0.0.1:${port} ...`);
      },
    );
    assertStringIncludes(shown, "WebSecREPL with TLSv1.2 connected");
    assert(!shown.includes(HOST_PASS), "the passphrase is not echoed");
    assert(occurrences(shown, "Enter passphrase") === 1, "the reconnection did not ask again");
    assert(!shown.includes("ENCRYPTION DISABLED"), "no plain-ws warning over wss");
  } finally {
    await tmux("kill-session", "-t", session).catch(() => "");
    await device.close();
    await box.cleanup();
  }
});
