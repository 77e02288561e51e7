import { normalizeRemotePath, remoteBasename, remoteDirname, remoteJoin } from "../lib/ops/paths.ts";
import { pyStr } from "../lib/webrepl/python_literal.ts";
import { assertEquals } from "./helpers/assert.ts";

Deno.test("pyStr escapes quotes, backslashes and control characters; keeps UTF-8", () => {
  assertEquals(pyStr("main.py"), "'main.py'");
  assertEquals(pyStr("it's"), "'it\\'s'");
  assertEquals(pyStr("a\\b"), "'a\\\\b'");
  assertEquals(pyStr("x\ny\rz\t\0\x7f"), "'x\\ny\\rz\\t\\x00\\x7f'");
  assertEquals(pyStr("'); import os; os.remove('boot.py"), "'\\'); import os; os.remove(\\'boot.py'");
  assertEquals(pyStr("données/é.txt"), "'données/é.txt'");
  assertEquals(pyStr("\ud800"), "'\ufffd'");
});

Deno.test("remote paths are absolute and normalized", () => {
  assertEquals(normalizeRemotePath("main.py"), "/main.py");
  assertEquals(normalizeRemotePath("/lib//x/./y/../z.py"), "/lib/x/z.py");
  assertEquals(normalizeRemotePath(""), "/");
  assertEquals(normalizeRemotePath("/.."), "/");
  assertEquals(remoteDirname("/lib/a.py"), "/lib");
  assertEquals(remoteDirname("a.py"), "/");
  assertEquals(remoteBasename("/lib/a.py"), "a.py");
  assertEquals(remoteJoin("/", "a.py"), "/a.py");
  assertEquals(remoteJoin("/lib", "a.py"), "/lib/a.py");
});
