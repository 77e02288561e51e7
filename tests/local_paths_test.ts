import * as node from "node:path";
import { basename, dirname, fromFileUrl, isAbsolute, join, resolve } from "../lib/local/paths.ts";
import { fileURLToPath } from "node:url";
import { assertEquals } from "./helpers/assert.ts";

const SAMPLES = [
  "",
  ".",
  "..",
  "/",
  "//",
  "a",
  "a/",
  "a//b",
  "a/./b/../c",
  "../a",
  "../../a/b",
  "/a",
  "/a/",
  "/a/b/c",
  "/a/../..",
  "/a/b/../../../c",
  "a/b/..",
  "main.py",
  "dir/sub/file.txt",
  "./x",
  "x/.",
  ".hidden",
  "名前/ファイル.py",
  "a//",
  "///a//b//",
  "/a//b",
  "a/../../b/",
];

Deno.test("local paths: file URLs", () => {
  for (const url of ["file:///home/user/deno.json", "file:///tmp/a%20b/%C3%A9.ts"]) {
    assertEquals(fromFileUrl(new URL(url)), fileURLToPath(url));
  }
});

Deno.test("local paths: the same answers as node:path on this platform", () => {
  for (const path of SAMPLES) {
    assertEquals(isAbsolute(path), node.isAbsolute(path), `isAbsolute(${path})`);
    assertEquals(basename(path), node.basename(path), `basename(${path})`);
    assertEquals(dirname(path), node.dirname(path), `dirname(${path})`);
    for (const from of ["/", "/home/user/project", "/home/user/project/"]) {
      assertEquals(resolve(from, path), node.resolve(from, path), `resolve(${from}, ${path})`);
    }
    for (const other of ["b", "../c", "", "/d"]) {
      if (other === "" && path === "") continue;
      assertEquals(join(path, other), node.join(path, other), `join(${path}, ${other})`);
    }
  }
});
