/**
 * `deno run <URL>/main.ts` reads no deno.json, so no import map: every import must resolve on its own. This test
 * fails on a bare specifier ("@peculiar/x509") or an npm specifier without an exact version, in any source file.
 */
import { assertEquals } from "./helpers/assert.ts";

const root = new URL("../", import.meta.url);
const SOURCE_ROOTS = ["main.ts", "lib/", "scripts/", "tests/"];

/** Static imports and re-exports, side-effect imports, and dynamic imports of a string literal. */
const IMPORT =
  /(?:^|[;\s])(?:import|export)\s+(?:[^;"'`]*?\sfrom\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']/gm;
/** Text imports are stable; bytes imports need --unstable-raw-imports, which a URL run does not have. */
const BYTES_IMPORT = /\bwith\s*\{\s*type:\s*["']bytes["']/;
const EXACT_NPM = /^npm:(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*@\d+\.\d+\.\d+(?:-[\w.]+)?(?:\/.*)?$/;

/** Why `specifier` would not load without the project's deno.json, or undefined when it would. */
export function importProblem(specifier: string): string | undefined {
  if (specifier.startsWith("./") || specifier.startsWith("../") || specifier.startsWith("node:")) {
    return undefined;
  }
  if (specifier.startsWith("npm:")) {
    return EXACT_NPM.test(specifier)
      ? undefined
      : "npm specifier without an exact version (npm:pkg@1.2.3/sub)";
  }
  return "needs the import map: write npm:pkg@1.2.3 (or a relative path) in the import itself";
}

export function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT)].map((match) => match[1] ?? match[2]);
}

async function* sourceFiles(path: URL): AsyncGenerator<URL> {
  const info = await Deno.stat(path);
  if (info.isFile) {
    if (path.pathname.endsWith(".ts")) yield path;
    return;
  }
  for await (const entry of Deno.readDir(path)) {
    yield* sourceFiles(new URL(entry.isDirectory ? `${entry.name}/` : entry.name, path));
  }
}

Deno.test("imports: the checker tells map-free specifiers from the rest", () => {
  const sample = [
    `import "npm:reflect-metadata@0.2.2";`,
    `import * as x509 from "@peculiar/x509";`,
    `import { md5 } from "npm:@noble/hashes@2.4.0/legacy.js";`,
    `import type { Io } from "../ui/io.ts";`,
    `export { thing } from "hash-wasm";`,
    `const { pkiCommands } = await import("./commands.ts");`,
    `import {\n  a,\n  b,\n} from "npm:hash-wasm";`,
    `import src from "./x.py" with { type: "text" };`,
    `  mp.pyimport("os");`,
  ].join("\n");
  const found = importsOf(sample);
  assertEquals(found, [
    "npm:reflect-metadata@0.2.2",
    "@peculiar/x509",
    "npm:@noble/hashes@2.4.0/legacy.js",
    "../ui/io.ts",
    "hash-wasm",
    "./commands.ts",
    "npm:hash-wasm",
    "./x.py",
  ]);
  // Built from pieces so that this file does not itself hold a bytes import.
  assertEquals(BYTES_IMPORT.test(`import wasm from "./m.wasm" with { type: "${"bytes"}" };`), true);
  assertEquals(BYTES_IMPORT.test(sample), false);
  assertEquals(found.map((specifier) => importProblem(specifier) === undefined), [
    true,
    false,
    true,
    true,
    false,
    true,
    false,
    true,
  ]);
});

Deno.test("imports: every source file imports without the import map or unstable flags, npm packages pinned exactly", async () => {
  const problems: string[] = [];
  let files = 0;
  for (const entry of SOURCE_ROOTS) {
    for await (const file of sourceFiles(new URL(entry, root))) {
      files++;
      const source = await Deno.readTextFile(file);
      const name = file.pathname.slice(root.pathname.length);
      if (BYTES_IMPORT.test(source)) problems.push(`${name}: a "bytes" import needs --unstable-raw-imports`);
      for (const specifier of importsOf(source)) {
        const problem = importProblem(specifier);
        if (problem) {
          problems.push(`${file.pathname.slice(root.pathname.length)}: "${specifier}": ${problem}`);
        }
      }
    }
  }
  assertEquals(problems, []);
  assertEquals(files > 50, true, `only ${files} source files found`);
});
