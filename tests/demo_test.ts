/** `upydev demo --script`: the guide's whole WebSecureREPL flow, run as a user runs it. */
import "npm:reflect-metadata@0.2.2";
import { assertEquals, assertMatch, assertStringIncludes } from "./helpers/assert.ts";
import { runCli } from "../lib/cli/run.ts";
import { commandTable } from "../lib/cli/table.ts";
import { recordingIo } from "../lib/ui/io.ts";

Deno.test("demo --script: CA, host and device PKI, wss_repl from boot.py, then a shell session over wss", async () => {
  const io = recordingIo({ env: { HOME: "/nonexistent-home-the-demo-must-not-touch", USER: "demo" } });
  const code = await runCli(["demo", "--script"], io, commandTable());
  assertEquals(code, 0, io.stdout + io.stderr);
  for (
    const line of [
      "$ upydev update_upyutils -@ esp_demo",
      "$ upydev kg ssl CA -tfkey -@ esp_demo",
      "$ upydev kg ssl host",
      "$ upydev kg ssl -tfkey -@ esp_demo --insecure-transfer",
      "$ upydev reset -@ esp_demo",
      "WebSecREPL with TLSv1.2 connected",
      "Connection to esp_demo closed.",
      "upydev demo: done",
    ]
  ) assertStringIncludes(io.stdout, line);
  assertMatch(io.stdout, /TLSv1\.2 @ ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384) - (128|256) bits Encryption/);
  assertMatch(io.stdout, /esp32@esp_demo:~\/lib \$ /);
  assertStringIncludes(io.stdout, "esp32 42");
});
