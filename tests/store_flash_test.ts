import { assertEquals } from "./helpers/assert.ts";
import { saveFlashDir } from "../lib/emulator/flash.ts";

Deno.test({
  name: "emu --flash-dir: the device's key and webrepl_cfg.py are written 0600, folders 0700",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "upydev-flash-" });
    try {
      const flash = `${dir}/flash`;
      // A file that was already there world-readable is tightened too, even when its bytes are unchanged.
      await Deno.mkdir(flash);
      await Deno.writeTextFile(`${flash}/webrepl_cfg.py`, "PASS = 'pw'\n", { mode: 0o644 });
      await Deno.chmod(`${flash}/webrepl_cfg.py`, 0o644);
      const encoder = new TextEncoder();
      await saveFlashDir(flash, {
        dirs: ["lib"],
        files: [
          ["webrepl_cfg.py", encoder.encode("PASS = 'pw'\n")],
          ["SSL_key0a1b.der", new Uint8Array([1, 2, 3])],
          ["lib/upysh.py", encoder.encode("pass\n")],
        ],
      });
      const mode = async (path: string) => (await Deno.stat(`${flash}/${path}`)).mode! & 0o777;
      assertEquals(await mode("webrepl_cfg.py"), 0o600);
      assertEquals(await mode("SSL_key0a1b.der"), 0o600);
      assertEquals(await mode("lib/upysh.py"), 0o600);
      assertEquals(await mode("lib"), 0o700);
      assertEquals((await Deno.stat(flash)).mode! & 0o777, 0o700);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
