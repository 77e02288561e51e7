/**
 * `deno run -A <URL>/main.ts`: the checkout served by a plain static web server, run with a fresh DENO_DIR from a
 * directory with no deno.json, as a user without a clone runs it. The npm packages come from the npm registry
 * (the fresh DENO_DIR has none), the device scripts, the emulator's Workers and its Python shims from the server,
 * relative to each module's import.meta.url.
 */
import { assert, assertEquals, assertStringIncludes } from "./helpers/assert.ts";

const root = new URL("../", import.meta.url);
const decoder = new TextDecoder();

/** A static file server for the checkout that, like most (and GitHub's raw files), serves source as text/plain. */
function serveCheckout(requested: string[]): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    requested.push(path);
    const file = new URL(`.${path}`, root);
    if (request.method !== "GET" || path.includes("..") || !file.href.startsWith(root.href)) {
      return new Response("not found", { status: 404 });
    }
    try {
      return new Response(await Deno.readFile(file), {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

interface Place {
  cwd: string;
  env: Record<string, string>;
}

async function freshPlace(): Promise<Place> {
  const cwd = await Deno.makeTempDir({ prefix: "upydev-url-run-" });
  await Deno.mkdir(`${cwd}/home`);
  await Deno.mkdir(`${cwd}/work`);
  return {
    cwd: `${cwd}/work`,
    env: {
      DENO_DIR: `${cwd}/deno-dir`,
      HOME: `${cwd}/home`,
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    },
  };
}

function upydev(url: string, place: Place, args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", url, ...args],
    cwd: place.cwd,
    env: place.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function run(url: string, place: Place, args: string[]): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await upydev(url, place, args).output();
  return { code, out: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** Starts `emu` and reads its output up to the WebREPL address it announces. */
async function startEmulator(url: string, place: Place) {
  const child = upydev(url, place, ["emu", "--password", "urlrun", "--port", "0", "--wss-port", "0"]).spawn();
  let seen = "";
  const pump = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) seen += chunk;
  })();
  const stderr = new Response(child.stderr).text();
  const deadline = Date.now() + 120_000;
  while (!/ws:\/\/127\.0\.0\.1:\d+/.test(seen)) {
    if (Date.now() > deadline) {
      child.kill();
      await child.status;
      throw new Error(`emu did not announce its address: ${seen}${await stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const address = seen.match(/ws:\/\/(127\.0\.0\.1:\d+)/)![1];
  return {
    address,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await pump;
      await stderr;
    },
  };
}

Deno.test("deno run -A URL/main.ts: --help, --version, emu + exec and demo --script, fresh DENO_DIR", async () => {
  const requested: string[] = [];
  const server = serveCheckout(requested);
  const url = `http://127.0.0.1:${server.addr.port}/main.ts`;
  const place = await freshPlace();
  try {
    const help = await run(url, place, ["--help"]);
    assertEquals(help.code, 0, help.out);
    assertStringIncludes(help.out, "  emu ");

    const version = await run(url, place, ["--version"]);
    assertEquals(version.code, 0, version.out);
    assertStringIncludes(version.out, `deno ${Deno.version.deno}`);
    assertStringIncludes(version.out, "MicroPython 1.27.0");

    const upyutils = await run(url, place, ["update_upyutils", "--help"]);
    assertStringIncludes(upyutils.out, "wss_repl.py: WebSecureREPL server");

    const emulator = await startEmulator(url, place);
    try {
      const exec = await run(url, place, [
        "exec",
        "-t",
        emulator.address,
        "-p",
        "urlrun",
        "import sys; print(sys.platform)",
      ]);
      assertEquals(exec.code, 0, exec.out);
      assertEquals(exec.out.replaceAll("\r", "").trim(), "esp32");
    } finally {
      await emulator.stop();
    }

    const demo = await run(url, place, ["demo", "--script"]);
    assertEquals(demo.code, 0, demo.out);
    assertStringIncludes(demo.out, "WebSecREPL with TLSv1.2 connected");
    assertStringIncludes(demo.out, "upydev demo: done");

    // The assets came from the server, found relative to the modules that use them.
    for (
      const path of ["/lib/emulator/worker.ts", "/lib/emulator/shims/worker_plugin.ts", "/device/wss_repl.py"]
    ) assert(requested.includes(path), `${path} was not fetched from the server`);
    assert(!requested.some((path) => path.endsWith("deno.json")), "the run read the project's deno.json");
  } finally {
    await server.shutdown();
    await Deno.remove(place.cwd.replace(/\/work$/, ""), { recursive: true });
  }
});
