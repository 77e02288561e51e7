// device/upysh.py and device/upysh2.py in real MicroPython (wasm): typed at the REPL as a user would, on the
// wasm port's POSIX-backed filesystem (3-tuple ilistdir) and under a LittleFS-like 4-tuple ilistdir.
import { assertEquals } from "./helpers/assert.ts";
import { WasmMicroPython } from "./helpers/wasm_micropython.ts";

const py = await WasmMicroPython.load();

/** A fresh directory holding a.py (3 bytes), .hidden, sub/b.txt (5 bytes) and sub/deeper/c.bin (600 bytes). */
function tree(): string {
  const dir = py.fresh();
  py.ok(
    "import os\nopen('a.py','w').write('abc')\nopen('.hidden','w').write('h')\nos.mkdir('sub')\n" +
      "open('sub/b.txt','w').write('hello')\nos.mkdir('sub/deeper')\nopen('sub/deeper/c.bin','wb').write(bytes(600))",
  );
  return dir;
}

Deno.test("upysh: a bare `ls` at the REPL lists the working directory: sizes or <dir>, names sorted, hidden left out", () => {
  tree();
  py.repl("from upysh import *");
  assertEquals(py.repl("ls"), "ls\r\n         3  a.py\n     <dir>  sub/\n\n>>> ");
  assertEquals(
    py.repl("ls('.', True)"),
    "ls('.', True)\r\n         1  .hidden\n         3  a.py\n     <dir>  sub/\n>>> ",
  );
  assertEquals(py.repl("ls('sub')"), "ls('sub')\r\n         5  b.txt\n     <dir>  deeper/\n>>> ");
  assertEquals(py.repl("ls('a.py')"), "ls('a.py')\r\n         3  a.py\n>>> ");
});

Deno.test("upysh: ls takes sizes from a LittleFS-style 4-tuple ilistdir, and from os.stat for the 3-tuple", () => {
  tree();
  // On LittleFS the size comes with the entry: report 999 there, so a stat-based listing would show 3.
  py.ok(
    "import upysh\nclass _Fs:\n def __getattr__(self, n):\n  return getattr(os, n)\n" +
      " def ilistdir(self, p):\n  return [(e[0], e[1], e[2], 999 if e[1] != 0x4000 else 0) for e in os.ilistdir(p)]\n" +
      "upysh.os = _Fs()",
  );
  assertEquals(py.ok("upysh.ls()"), "       999  a.py\n     <dir>  sub/\n");
  py.ok("upysh.os = os");
  assertEquals(py.ok("upysh.ls()"), "         3  a.py\n     <dir>  sub/\n");
});

Deno.test("upysh: cd, a bare pwd, and cd() back to /", () => {
  const dir = tree();
  py.repl("from upysh import *");
  assertEquals(py.repl("cd('sub')"), "cd('sub')\r\n>>> ");
  assertEquals(py.repl("pwd"), `pwd\r\n${dir}/sub\n\n>>> `);
  py.repl("cd()");
  assertEquals(py.repl("pwd"), "pwd\r\n/\n\n>>> ");
  py.ok(`import os\nos.chdir('${dir}')`);
});

Deno.test("upysh: cat prints bytes exactly (UTF-8 split across read buffers); head prints the first n lines", () => {
  tree();
  const text = "é".repeat(200) + "\nline 2\nline 3\n";
  py.writeFile(`${py.ok("import os\nprint(os.getcwd())").trim()}/u.txt`, text);
  assertEquals(py.ok("from upysh import *\ncat('u.txt')"), text);
  assertEquals(py.ok("head('u.txt', 2)"), "é".repeat(200) + "\nline 2\n");
  assertEquals(py.ok("head('u.txt')"), text);
});

Deno.test("upysh: mkdir, touch (creates, never truncates), cp and mv (into a directory keeping the name), rm, rmdir", () => {
  const dir = tree();
  py.ok("from upysh import *\nmkdir('new')\ntouch('empty')\ntouch('a.py')\ncp('sub/deeper/c.bin', 'new')");
  py.ok("cp('a.py', 'copy.py')\nmv('copy.py', 'moved.py')\nmv('moved.py', 'new')");
  assertEquals(py.ok("ls()"), "         3  a.py\n         0  empty\n     <dir>  new/\n     <dir>  sub/\n");
  assertEquals(py.ok("ls('new')"), "       600  c.bin\n         3  moved.py\n");
  assertEquals(py.readText(`${dir}/new/moved.py`), "abc");
  assertEquals(py.ok("print(open('new/c.bin','rb').read() == bytes(600))"), "True\n");
  py.ok("rm('new/c.bin')\nrm('new/moved.py')\nrmdir('new')\nrm('empty')");
  assertEquals(py.ok("ls()"), "         3  a.py\n     <dir>  sub/\n");
});

Deno.test("upysh: a failure prints one line naming the command and the path; a bare command needing arguments shows its usage", () => {
  tree();
  py.repl("from upysh import *");
  // The wasm port's OSError prints its errno bare ("44"); an ESP32 prints "[Errno 2] ENOENT".
  assertEquals(py.repl("rm('nope')"), "rm('nope')\r\nrm: nope: 44\n>>> ");
  assertEquals(py.repl("rmdir('sub')"), "rmdir('sub')\r\nrmdir: sub: 55\n>>> ");
  assertEquals(py.repl("cd('nope')"), "cd('nope')\r\ncd: nope: 44\n>>> ");
  assertEquals(py.repl("cat"), "cat\r\nusage: cat(path)\n>>> ");
  assertEquals(py.repl("mv"), "mv\r\nusage: mv(src, dst)\n>>> ");
});

Deno.test("upysh2: a bare `tree` draws the tree under the working directory and counts directories and files", () => {
  tree();
  py.repl("from upysh2 import *");
  assertEquals(
    py.repl("tree"),
    "tree\r\n.\n├── a.py\n└── sub\n    ├── b.txt\n    └── deeper\n        └── c.bin\n\n2 directories, 3 files\n\n>>> ",
  );
  assertEquals(py.ok("tree('sub/deeper', True)"), "sub/deeper\n└── c.bin\n\n0 directories, 1 file\n");
  assertEquals(
    py.ok("tree('.', True)").split("\n").slice(0, 3).join("\n"),
    ".\n├── .hidden\n├── a.py",
  );
});

Deno.test("upysh2: du gives each entry's recursive size and the total; size() returns it", () => {
  tree();
  assertEquals(
    py.ok("from upysh2 import *\ndu()"),
    "         1  .hidden\n         3  a.py\n       605  sub/\n       609  .\n",
  );
  assertEquals(py.ok("du('sub/b.txt')"), "         5  sub/b.txt\n");
  assertEquals(py.ok("print(size('sub'), size('a.py'))"), "605 3\n");
});

Deno.test("upysh2: rmrf removes a whole tree or a file, refuses /, and reports a missing path in one line", () => {
  const dir = tree();
  py.ok("from upysh2 import *\nrmrf('sub')\nrmrf('a.py')");
  assertEquals(py.ok("import os\nprint(sorted(os.listdir()))"), "['.hidden']\n");
  assertEquals(py.ok("rmrf('/')"), "rmrf: /: refusing to remove /\n");
  assertEquals(py.ok("rmrf('nope')"), "rmrf: nope: 44\n");
  assertEquals(py.ok("tree('nope')"), "tree: nope: 44\n");
  assertEquals(py.exists(`${dir}/.hidden`), true);
});
