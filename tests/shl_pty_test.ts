/**
 * `upydev shl@NAME` as a user runs it: a real process in a pseudo-terminal (tmux), keys sent with send-keys,
 * the screen read with capture-pane.
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

async function screenShows(session: string, text: string, timeoutMs = 20_000): Promise<string> {
  const start = Date.now();
  let screen = "";
  while (Date.now() - start < timeoutMs) {
    screen = await tmux("capture-pane", "-p", "-t", session);
    if (screen.includes(text)) return screen;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`screen never showed ${JSON.stringify(text)}:\n${screen}`);
}

Deno.test("shl in a pseudo-terminal: prompt, ls, cd, REPL toggle, keybindings, exit", async () => {
  const emu = await startEmulator({ password: "ptypw", port: 0 });
  const home = await Deno.makeTempDir({ prefix: "upydev-pty-" });
  const session = `upydev-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(`${home}/.config/upydev`, { recursive: true });
    await Deno.writeTextFile(
      `${home}/.config/upydev/UPY_G.config`,
      JSON.stringify({ esp_room1: [`127.0.0.1:${emu.port}`, "ptypw"] }),
    );
    const command =
      `cd ${home} && HOME=${home} XDG_CONFIG_HOME= ${ROOT}scripts/deno.sh run -A ${ROOT}main.ts shl@esp_room1; ` +
      `echo "exit status $?"; sleep 30`;
    await tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "bash", "-c", command);
    await screenShows(session, "esp32@esp_room1:~ $");
    await tmux("send-keys", "-t", session, "mkdir lib", "Enter");
    await tmux("send-keys", "-t", session, "cd lib", "Enter");
    await screenShows(session, "esp32@esp_room1:~/lib $");
    await tmux("send-keys", "-t", session, "C-s");
    await screenShows(session, ">>>");
    await tmux("send-keys", "-t", session, "print('pty', 6*7)", "Enter");
    await screenShows(session, "pty 42");
    await tmux("send-keys", "-t", session, "C-s");
    await tmux("send-keys", "-t", session, "C-k");
    await screenShows(session, "CTRL-s       toggle shell/REPL mode");
    await tmux("send-keys", "-t", session, "pwd", "Enter");
    await tmux("send-keys", "-t", session, "exit", "Enter");
    const screen = await screenShows(session, "exit status 0");
    assertStringIncludes(screen, "WARNING: ENCRYPTION DISABLED IN THIS MODE");
    assertStringIncludes(screen, "Connection to esp_room1 closed.");
  } finally {
    await tmux("kill-session", "-t", session).catch(() => "");
    await emu.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("shl over wss in a pseudo-terminal: hidden passphrase prompt, TLS header, shell, exit", async () => {
  const box = await hostWithCa();
  const { device, port } = await wssDeviceFor(box);
  const session = `upydev-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeTextFile(
      `${box.configDir}/UPY_G.config`,
      JSON.stringify({ esp_room1: [`wss://127.0.0.1:${port}`, WEBREPL_PASSWORD] }),
    );
    const command =
      `cd ${box.cwd} && HOME=${box.home} USER=${box.env.USER} XDG_CONFIG_HOME= UPYDEV_PASSPHRASE= ` +
      `${ROOT}scripts/deno.sh run -A ${ROOT}main.ts shl@esp_room1; echo "exit status $?"; sleep 30`;
    await tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "bash", "-c", command);
    await screenShows(session, "Enter passphrase for key 'HOST_key@");
    await tmux("send-keys", "-t", session, "-l", HOST_PASS);
    await tmux("send-keys", "-t", session, "Enter");
    const connected = await screenShows(session, "esp32@esp_room1:~ $");
    assertStringIncludes(connected, "WebSecREPL with TLSv1.2 connected");
    assertStringIncludes(connected, "TLSv1.2 @ ECDHE-ECDSA-AES");
    assert(!connected.includes(HOST_PASS), "the passphrase is not echoed");
    await tmux("send-keys", "-t", session, "ls /lib", "Enter");
    // The eleven device scripts, in columns whose layout depends on the terminal's width.
    for (const name of ["wss_helper.py", "wss_repl.py", "upysh.py"]) await screenShows(session, name);
    await tmux("send-keys", "-t", session, "C-x");
    const screen = await screenShows(session, "exit status 0");
    assertStringIncludes(screen, "Connection to esp_room1 closed.");
  } finally {
    await tmux("kill-session", "-t", session).catch(() => "");
    await device.close();
    await box.cleanup();
  }
});
