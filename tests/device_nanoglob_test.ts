// device/nanoglob.py in real MicroPython (wasm): *, ?, **, several patterns, sizes, dir_only, hidden names.
import { assertEquals } from "./helpers/assert.ts";
import { WasmMicroPython } from "./helpers/wasm_micropython.ts";

const py = await WasmMicroPython.load();

/** A fresh directory: boot.py main.py notes.txt .env lib/{a.py,b.mpy,.c.py,pkg/{__init__.py,x.py}} data/ */
function tree(): string {
  const dir = py.fresh();
  py.ok(
    "import os\nfor d in ('lib', 'lib/pkg', 'data'):\n os.mkdir(d)\n" +
      "for f, n in (('boot.py', 1), ('main.py', 22), ('notes.txt', 3), ('.env', 4), ('lib/a.py', 5), ('lib/b.mpy', 6),\n" +
      "             ('lib/.c.py', 7), ('lib/pkg/__init__.py', 0), ('lib/pkg/x.py', 8)):\n open(f, 'w').write('x' * n)",
  );
  return dir;
}

const glob = (args: string) => py.ok(`from nanoglob import glob, iglob\nprint(glob(${args}))`).trim();

Deno.test("nanoglob: * and ? within one name; hidden names only for a pattern starting with '.'", () => {
  tree();
  assertEquals(glob("'*.py'"), "['boot.py', 'main.py']");
  assertEquals(glob("'????.py'"), "['boot.py', 'main.py']");
  assertEquals(glob("'m*n.p?'"), "['main.py']");
  assertEquals(glob("'*'"), "['boot.py', 'data', 'lib', 'main.py', 'notes.txt']");
  assertEquals(glob("'.*'"), "['.env']");
  assertEquals(glob("'lib/*.py'"), "['lib/a.py']");
  assertEquals(glob("'lib/.*'"), "['lib/.c.py']");
  assertEquals(glob("'*/*.py'"), "['lib/a.py']");
  assertEquals(glob("'*.zip'"), "[]");
});

Deno.test("nanoglob: ** matches zero or more directories; alone at the end, everything below", () => {
  tree();
  assertEquals(
    glob("'**/*.py'"),
    "['boot.py', 'main.py', 'lib/a.py', 'lib/pkg/__init__.py', 'lib/pkg/x.py']",
  );
  assertEquals(glob("'lib/**/x.py'"), "['lib/pkg/x.py']");
  assertEquals(
    glob("'lib/**'"),
    "['lib/a.py', 'lib/b.mpy', 'lib/pkg', 'lib/pkg/__init__.py', 'lib/pkg/x.py']",
  );
});

Deno.test("nanoglob: plain names, absolute patterns, several patterns in order, missing paths", () => {
  const dir = tree();
  assertEquals(glob("'main.py', 'lib/pkg', 'nope.py', 'nope/x'"), "['main.py', 'lib/pkg']");
  assertEquals(glob(`'${dir}/lib/*.py'`), `['${dir}/lib/a.py']`);
  assertEquals(glob("'./*.txt'"), "['./notes.txt']");
  assertEquals(glob("'notes.txt', '*.py'"), "['notes.txt', 'boot.py', 'main.py']");
});

Deno.test("nanoglob: size=True gives (size, path) with 0 for directories; dir_only keeps directories", () => {
  tree();
  assertEquals(
    glob("'*', size=True"),
    "[(1, 'boot.py'), (0, 'data'), (0, 'lib'), (22, 'main.py'), (3, 'notes.txt')]",
  );
  assertEquals(glob("'**', dir_only=True"), "['data', 'lib', 'lib/pkg']");
  assertEquals(
    glob("'lib/**/*.py', size=True"),
    "[(5, 'lib/a.py'), (0, 'lib/pkg/__init__.py'), (8, 'lib/pkg/x.py')]",
  );
});

Deno.test("nanoglob: iglob yields lazily, one result at a time", () => {
  tree();
  assertEquals(
    py.ok("from nanoglob import iglob\ng = iglob('**/*.py')\nprint(next(g), next(g), type(g).__name__)")
      .trim(),
    "boot.py main.py generator",
  );
});
