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
  feed("\x05!");
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
