import { assertEquals } from "./helpers/assert.ts";
import { type EditorEvent, LineEditor } from "../lib/shell/line_editor.ts";

function editor(history: string[] = []) {
  let screen = "";
  const line = new LineEditor((text) => (screen += text), history);
  const feed = (input: string): EditorEvent[] => line.feed(new TextEncoder().encode(input));
  return { line, feed, screen: () => screen, clear: () => (screen = "") };
}

Deno.test("line editor: typing echoes, Enter submits the line and records history", () => {
  const history: string[] = [];
  const { line, feed, screen } = editor(history);
  line.prompt("$ ");
  assertEquals(feed("ls lib\r"), [{ kind: "line", text: "ls lib" }]);
  assertEquals(screen(), "$ ls lib\r\n");
  assertEquals(history, ["ls lib"]);
  assertEquals(feed("\r"), [{ kind: "line", text: "" }]);
  assertEquals(history, ["ls lib"]);
});

Deno.test("line editor: backspace, cursor keys and mid-line insertion redraw exactly", () => {
  const { line, feed, screen, clear } = editor();
  line.prompt("$ ");
  feed("cat");
  clear();
  feed("\x7f");
  assertEquals(screen(), "\r$ ca\x1b[K");
  clear();
  feed("\x1b[D");
  assertEquals(screen(), "\x1b[1D");
  clear();
  feed("X");
  assertEquals(screen(), "\r$ cXa\x1b[K\x1b[1D");
  assertEquals(line.text, "cXa");
  feed("\x01");
  feed("\x1b[3~");
  assertEquals(line.text, "Xa");
  feed("\x1b[F!");
  assertEquals(line.text, "Xa!");
});

Deno.test("line editor: history up and down restores the draft", () => {
  const { line, feed } = editor(["ls", "pwd"]);
  line.prompt("$ ");
  feed("dr");
  feed("\x1b[A");
  assertEquals(line.text, "pwd");
  feed("\x1b[A");
  assertEquals(line.text, "ls");
  feed("\x1b[A");
  assertEquals(line.text, "ls");
  feed("\x1b[B\x1b[B");
  assertEquals(line.text, "dr");
  feed("\x1bOA");
  assertEquals(line.text, "pwd");
});

Deno.test("line editor: shell keys become events; Ctrl-C clears the line; Ctrl-D only on an empty line", () => {
  const { line, feed, screen, clear } = editor();
  line.prompt("$ ");
  assertEquals(feed("\x13\x18\x0b"), [
    { kind: "key", key: "toggle-mode" },
    { kind: "key", key: "exit" },
    { kind: "key", key: "show-keys" },
  ]);
  feed("abc");
  clear();
  assertEquals(feed("\x03"), []);
  assertEquals(screen(), "^C\r\n$ ");
  assertEquals(line.text, "");
  feed("x");
  assertEquals(feed("\x04"), []);
  feed("\x7f");
  assertEquals(feed("\x04"), [{ kind: "key", key: "eof" }]);
});

Deno.test("line editor: UTF-8 split across chunks is decoded as one character", () => {
  const { line } = editor();
  line.prompt("$ ");
  const bytes = new TextEncoder().encode("é");
  line.feed(bytes.subarray(0, 1));
  line.feed(bytes.subarray(1));
  assertEquals(line.text, "é");
});

Deno.test("line editor: the shell's control keys are events; Tab and Shift-Tab ask for completion", () => {
  const { line, feed } = editor();
  line.prompt("$ ");
  assertEquals(feed("\x05\x14\x02\x0e\x19\x17\x00"), [
    { kind: "key", key: "edit-script" },
    { kind: "key", key: "rerun-script" },
    { kind: "key", key: "banner" },
    { kind: "key", key: "memory" },
    { kind: "key", key: "gc" },
    { kind: "key", key: "device-info" },
    { kind: "key", key: "repeat" },
  ]);
  assertEquals(feed("cat bo\t\x1b[Z"), [{ kind: "complete", list: false }, { kind: "complete", list: true }]);
  assertEquals(line.text, "cat bo");
});

Deno.test("line editor: completion replaces the word before the cursor and redraws", () => {
  const { line, feed, screen, clear } = editor();
  line.prompt("$ ");
  feed("cat bo tail\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D");
  assertEquals(line.cursor, 6);
  clear();
  line.replaceBeforeCursor(4, "boot.py ");
  assertEquals(line.text, "cat boot.py  tail");
  assertEquals(line.cursor, 12);
  assertEquals(screen(), "\r$ cat boot.py  tail\x1b[K\x1b[5D");
  clear();
  line.showBelow("a.py  b.py\r\n");
  assertEquals(screen(), "\r\na.py  b.py\r\n\r$ cat boot.py  tail\x1b[K\x1b[5D");
});

Deno.test("line editor: CTRL-r searches the history backwards; Enter runs, CTRL-g cancels, arrows edit", () => {
  const history = ["ls lib", "cat boot.py", "put a.py", "cat main.py"];
  const { line, feed, screen, clear } = editor(history);
  line.prompt("$ ");
  feed("draft");
  clear();
  feed("\x12ca");
  assertEquals(screen().endsWith("\r(reverse-i-search)'ca': cat main.py\x1b[K"), true);
  feed("\x12");
  assertEquals(screen().endsWith("(reverse-i-search)'ca': cat boot.py\x1b[K"), true);
  assertEquals(feed("\r"), [{ kind: "line", text: "cat boot.py" }]);

  line.prompt("$ ");
  feed("x\x12ls\x07");
  assertEquals(line.text, "x");
  feed("\x7f\x12put\x1b[D!");
  assertEquals(line.text, "put a.p!y");
});
