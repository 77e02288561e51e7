/**
 * Property-based tests of the link's parsers (issue 9, item 7): the frame parser, the session's prompt and
 * reply matching (with the concurrent-connection filter), and the Python-literal encoder. Inputs are bounded
 * in size and runs in number, so each property takes well under a second; the only errors allowed out are
 * the project's own (WsProtocolError below the session, UserError above it).
 */
import fc from "npm:fast-check@4.10.2";
import { UserError } from "../lib/cli/errors.ts";
import { concatBytes } from "../lib/bytes/bytes.ts";
import { NoticeFilter } from "../lib/webrepl/notice_filter.ts";
import { pyStr } from "../lib/webrepl/python_literal.ts";
import { WebReplSession } from "../lib/webrepl/session.ts";
import { WsClient } from "../lib/ws/client.ts";
import { encodeFrame, type Frame, FrameParser, Opcode, WsProtocolError } from "../lib/ws/frame.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { memoryPair, ScriptedDevice } from "./helpers/memory_stream.ts";

const encoder = new TextEncoder();

/** `bytes` cut at the given offsets (any order, duplicates allowed). */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((offset) => offset % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  return pieces;
}

const offsets = fc.array(fc.nat(), { maxLength: 12 });
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

// ---- frame parser -------------------------------------------------------------------------------------------

Deno.test("fuzz frame parser: arbitrary bytes in arbitrary pieces give frames or a WsProtocolError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), offsets, (bytes, cuts) => {
      const parser = new FrameParser({ masking: "forbidden" });
      let payloadBytes = 0;
      try {
        for (const piece of cut(bytes, cuts)) {
          for (const frame of parser.push(piece)) payloadBytes += frame.payload.length;
        }
      } catch (error) {
        if (!(error instanceof WsProtocolError)) throw error;
      }
      assert(payloadBytes <= bytes.length);
    }),
    { numRuns: 400 },
  );
});

Deno.test("fuzz frame parser: valid frames cut anywhere parse exactly as whole", () => {
  const frameArbitrary = fc.record({
    opcode: fc.constantFrom(Opcode.Text, Opcode.Binary, Opcode.Ping, Opcode.Close),
    payload: fc.uint8Array({ maxLength: 400 }),
  }).map(({ opcode, payload }) => ({ opcode, payload: opcode >= 0x8 ? payload.subarray(0, 125) : payload }));
  fc.assert(
    fc.property(fc.array(frameArbitrary, { maxLength: 5 }), offsets, (frames, cuts) => {
      const stream = concatBytes(
        frames.map((frame) => encodeFrame(frame.opcode, frame.payload, { mask: false })),
      );
      const parser = new FrameParser({ masking: "forbidden" });
      const parsed: Frame[] = cut(stream, cuts).flatMap((piece) => parser.push(piece));
      assertEquals(
        parsed.map((frame) => [frame.opcode, frame.payload]),
        frames.map((f) => [f.opcode, f.payload]),
      );
      assertEquals(parser.midFrame, false);
    }),
    { numRuns: 200 },
  );
});

// ---- concurrent-connection notices --------------------------------------------------------------------------

/** Device text: mostly the bytes that matter to the filter (line ends, 'C', control bytes). */
const deviceText = fc.array(
  fc.oneof(
    fc.constantFrom("\r", "\n", "\r\n", "C", "Concurrent", " rejected", "\x04", ">", "OK"),
    fc.string({ maxLength: 6 }),
  ),
  { maxLength: 30 },
).map((parts) => parts.join(""));

const notice = fc.string({ minLength: 1, maxLength: 300 })
  .filter((address) => !CONTROL.test(address))
  .map((address) => `\r\nConcurrent WebREPL connection from ${address} rejected\r\n`);

Deno.test("fuzz notice filter: notices of any address, cut anywhere, vanish; nothing else changes", () => {
  fc.assert(
    fc.property(
      deviceText,
      fc.array(fc.tuple(fc.nat(), notice), { maxLength: 3 }),
      offsets,
      (text, notices, cuts) => {
        fc.pre(!text.includes("\nConcurrent WebREPL connection from "));
        // Inserted between characters of the text, never inside another notice.
        const at = notices.map(([position, line]) => [position % (text.length + 1), line] as const)
          .sort((a, b) => a[0] - b[0]);
        let withNotices = "";
        let from = 0;
        for (const [index, line] of at) {
          withNotices += text.slice(from, index) + line;
          from = index;
        }
        withNotices += text.slice(from);
        const filter = new NoticeFilter();
        const out = cut(encoder.encode(withNotices), cuts).map((piece) => filter.push(piece));
        out.push(filter.release());
        assertEquals(new TextDecoder().decode(concatBytes(out)), text);
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("fuzz notice filter: arbitrary bytes never throw, never grow, and all come out by release", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), offsets, (bytes, cuts) => {
      const filter = new NoticeFilter();
      const out = concatBytes([...cut(bytes, cuts).map((piece) => filter.push(piece)), filter.release()]);
      assert(out.length <= bytes.length);
    }),
    { numRuns: 400 },
  );
});

// ---- the session's prompt and reply matching ----------------------------------------------------------------

/** Text frames carrying `bytes` cut at `cuts` (empty pieces skipped). */
async function sendPieces(peer: ScriptedDevice, bytes: Uint8Array, cuts: number[]): Promise<void> {
  for (const piece of cut(bytes, cuts)) if (piece.length > 0) await peer.sendText(piece);
}

Deno.test("fuzz session: login and exec replies cut into any frames, with junk and notices, read exactly", async () => {
  const junk = deviceText.filter((text) => !text.includes("Password: ") && !text.includes("\nConcurrent"));
  const stdout = fc.uint8Array({ maxLength: 300 }).map((bytes) =>
    bytes.map((byte) => (byte === 4 ? 5 : byte))
  );
  await fc.assert(
    fc.asyncProperty(
      junk,
      stdout,
      notice,
      offsets,
      offsets,
      async (before, output, line, loginCuts, replyCuts) => {
        fc.pre(!new TextDecoder().decode(output).includes("\nConcurrent WebREPL connection from "));
        const { client, device } = memoryPair();
        const peer = new ScriptedDevice(device);
        const script = (async () => {
          await peer.upgrade();
          await sendPieces(peer, encoder.encode(`${before}Password: `), loginCuts);
          await peer.textUntil("\r");
          await sendPieces(peer, encoder.encode("\r\nWebREPL connected\r\n>>> "), loginCuts);
          await peer.textUntil("\x01");
          await sendPieces(peer, encoder.encode(`\r\n>>> ${line}raw REPL; CTRL-B to exit\r\n>`), replyCuts);
          await peer.textUntil("\x01");
          await sendPieces(peer, encoder.encode("R\x00"), replyCuts);
          await peer.textUntil("\x04");
          const reply = concatBytes([encoder.encode("OK"), output, encoder.encode(`\x04${line}\x04>`)]);
          await sendPieces(peer, reply, replyCuts);
          await peer.frame();
          peer.close();
        })();
        const session = await WebReplSession.login(await WsClient.connect(client), "pw", {
          inactivityMs: 1000,
        });
        const result = await session.execRaw("print(1)");
        assertEquals([result.stdout, result.error], [output, ""]);
        await session.close();
        await script;
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("fuzz session: any device reply to exec ends in a result or a UserError, never anything else", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), offsets, async (reply, cuts) => {
      const { client, device } = memoryPair();
      const peer = new ScriptedDevice(device);
      const script = (async () => {
        await peer.upgrade();
        await peer.sendText("Password: ");
        await peer.textUntil("\r");
        await peer.sendText("\r\nWebREPL connected\r\n>>> ");
        await peer.frame();
        for (const piece of cut(reply, cuts)) await peer.sendRaw(piece);
        peer.close();
      })();
      const session = await WebReplSession.login(await WsClient.connect(client), "pw", {
        inactivityMs: 200,
        answerMs: 500,
      });
      try {
        await session.execRaw("print(1)");
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
      } finally {
        await session.close();
        await script;
      }
    }),
    { numRuns: 100 },
  );
});

// ---- Python literals ----------------------------------------------------------------------------------------

/** Reads back a literal made by pyStr: the escapes it uses, nothing else. */
function readPyStr(literal: string): string {
  assert(literal.startsWith("'") && literal.endsWith("'") && literal.length >= 2, literal);
  const body = literal.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    assert(char !== "'" && char !== "\n" && char !== "\r", `raw ${JSON.stringify(char)} in ${literal}`);
    if (char !== "\\") {
      out += char;
      continue;
    }
    const next = body[++i];
    if (next === "x") {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += { "\\": "\\", "'": "'", n: "\n", r: "\r", t: "\t" }[next] ?? fail(next);
  }
  return out;
}

function fail(escape: string): never {
  throw new Error(`unexpected escape \\${escape}`);
}

Deno.test("fuzz pyStr: any string (lone surrogates too) becomes one safe literal that reads back", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 80 }), (text) => {
      const literal = pyStr(text);
      assert(!CONTROL.test(literal), JSON.stringify(literal));
      assertEquals(readPyStr(literal), text.toWellFormed());
    }),
    { numRuns: 1000 },
  );
});
