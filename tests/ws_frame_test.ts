import { assert, assertEquals } from "./helpers/assert.ts";
import {
  encodeFrame,
  encodeFrameHeader,
  type Frame,
  FrameParser,
  type FrameParserOptions,
  Opcode,
  type WsErrorCode,
  WsProtocolError,
} from "../lib/ws/frame.ts";

const ascii = (text: string) => new TextEncoder().encode(text);
const hex = (text: string) => Uint8Array.fromHex(text.replace(/\s+/g, ""));

/** What a v1.27 device sent during a login, a GET_VER probe, a 258-byte GET chunk and a close, in order. */
const deviceStream = hex(`
  810a 50617373776f72643a20
  8119 0d0a5765625245504c20636f6e6e65637465640d0a3e3e3e20
  8204 57420000
  8203 011b00
  827e 0102 0001 ${"ab".repeat(256)}
  8102 fffe
  8800
`);

const deviceFrames: Frame[] = [
  { fin: true, opcode: Opcode.Text, masked: false, payload: ascii("Password: ") },
  { fin: true, opcode: Opcode.Text, masked: false, payload: ascii("\r\nWebREPL connected\r\n>>> ") },
  { fin: true, opcode: Opcode.Binary, masked: false, payload: ascii("WB\0\0") },
  { fin: true, opcode: Opcode.Binary, masked: false, payload: hex("011b00") },
  { fin: true, opcode: Opcode.Binary, masked: false, payload: hex(`0001${"ab".repeat(256)}`) },
  { fin: true, opcode: Opcode.Text, masked: false, payload: hex("fffe") },
  { fin: true, opcode: Opcode.Close, masked: false, payload: new Uint8Array(0) },
];

function parseInPieces(stream: Uint8Array, cuts: number[], options?: FrameParserOptions): Frame[] {
  const parser = new FrameParser(options);
  const frames: Frame[] = [];
  let start = 0;
  for (const cut of [...cuts, stream.length]) {
    frames.push(...parser.push(stream.subarray(start, cut)));
    start = cut;
  }
  return frames;
}

Deno.test("frame parser: device stream split at every single offset", () => {
  for (let cut = 0; cut <= deviceStream.length; cut++) {
    assertEquals(parseInPieces(deviceStream, [cut], { masking: "forbidden" }), deviceFrames, `cut at ${cut}`);
  }
});

Deno.test("frame parser: device stream split at every pair of offsets", () => {
  // Only the first 60 bytes for pairs: the headers live there, and n^2 over the whole stream adds nothing.
  for (let first = 0; first <= 60; first++) {
    for (let second = first; second <= 60; second++) {
      assertEquals(parseInPieces(deviceStream, [first, second]), deviceFrames, `cuts at ${first},${second}`);
    }
  }
});

Deno.test("frame parser: device stream one byte at a time", () => {
  const cuts = Array.from({ length: deviceStream.length }, (_, i) => i);
  assertEquals(parseInPieces(deviceStream, cuts), deviceFrames);
});

Deno.test("frame parser: masked client frames round-trip at every split, with mask required", () => {
  const payloads = [
    new Uint8Array(0),
    ascii("pw\r"),
    new Uint8Array(125).fill(7),
    new Uint8Array(126).fill(9),
  ];
  payloads.push(crypto.getRandomValues(new Uint8Array(65535)));
  for (const payload of payloads) {
    const frame = encodeFrame(Opcode.Binary, payload, { mask: true });
    assert(frame[1] & 0x80, "mask bit set");
    const cuts = payload.length > 200 ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1000, frame.length - 1] : undefined;
    for (const cut of cuts ?? Array.from({ length: frame.length + 1 }, (_, i) => i)) {
      const frames = parseInPieces(frame, [cut], { masking: "required" });
      assertEquals(frames.length, 1);
      assert(frames[0].masked && frames[0].fin && frames[0].opcode === Opcode.Binary);
      assert(frames[0].payload.toHex() === payload.toHex(), `payload of ${payload.length} at cut ${cut}`);
    }
  }
});

Deno.test("encodeFrame: unmasked frame is header then payload in one buffer", () => {
  assertEquals(encodeFrame(Opcode.Binary, ascii("WB\0\0"), { mask: false }), hex("820457420000"));
  assertEquals(encodeFrame(Opcode.Close, new Uint8Array(0), { mask: false }), hex("8800"));
});

Deno.test("encodeFrameHeader: 7-bit, 16-bit and 64-bit length forms, with and without mask", () => {
  assertEquals(encodeFrameHeader(Opcode.Text, 10), hex("810a"));
  assertEquals(encodeFrameHeader(Opcode.Text, 125), hex("817d"));
  assertEquals(encodeFrameHeader(Opcode.Binary, 126), hex("827e007e"));
  assertEquals(encodeFrameHeader(Opcode.Binary, 65535), hex("827effff"));
  assertEquals(encodeFrameHeader(Opcode.Binary, 65536), hex("827f0000000000010000"));
  assertEquals(encodeFrameHeader(Opcode.Text, 3, hex("01020304")), hex("818301020304"));
  assertEquals(encodeFrameHeader(Opcode.Binary, 300, hex("01020304")), hex("82fe012c01020304"));
});

Deno.test("frame parser: fragmented data messages are delivered frame by frame", () => {
  const frames = parseInPieces(hex("0102 6869 8001 21"), []);
  assertEquals(frames.map((f) => [f.fin, f.opcode]), [[false, 1], [true, 0]]);
});

const violations: [WsErrorCode, string, FrameParserOptions?][] = [
  ["WS_ERR_RESERVED_BITS", "c100"],
  ["WS_ERR_RESERVED_BITS", "9100"],
  ["WS_ERR_INVALID_OPCODE", "8300"],
  ["WS_ERR_INVALID_OPCODE", "8b00"],
  ["WS_ERR_64BIT_LENGTH", "827f", { reject64BitLength: true }],
  ["WS_ERR_PAYLOAD_TOO_BIG", "827f0000000000010000"],
  ["WS_ERR_PAYLOAD_TOO_BIG", "827e0100", { maxPayload: 255 }],
  ["WS_ERR_PAYLOAD_TOO_BIG", "827fffffffffffffffff"],
  ["WS_ERR_CONTROL_FRAME_TOO_BIG", "887e"],
  ["WS_ERR_FRAGMENTED_CONTROL", "0900"],
  ["WS_ERR_UNEXPECTED_MASK", "818001020304", { masking: "forbidden" }],
  ["WS_ERR_EXPECTED_MASK", "8100", { masking: "required" }],
  ["WS_ERR_NON_MINIMAL_LENGTH", "827e0005"],
  ["WS_ERR_NON_MINIMAL_LENGTH", "827f000000000000ffff", { maxPayload: 1 << 20 }],
  ["WS_ERR_UNEXPECTED_CONTINUATION", "8000"],
  ["WS_ERR_EXPECTED_CONTINUATION", "01016882016869"],
];

for (const [code, bytes, options] of violations) {
  Deno.test(`frame parser: ${code} for ${bytes}`, () => {
    for (const split of [false, true]) {
      const parser = new FrameParser(options);
      const stream = hex(bytes);
      const error = (() => {
        try {
          if (split) { for (const byte of stream) parser.push(Uint8Array.of(byte)); }
          else parser.push(stream);
        } catch (error) {
          return error;
        }
      })();
      assert(error instanceof WsProtocolError, `expected ${code}, got ${error}`);
      assertEquals(error.code, code);
      // A failed parser stays failed instead of resynchronising on garbage.
      let again: unknown;
      try {
        parser.push(hex("8100"));
      } catch (e) {
        again = e;
      }
      assert(again === error, "parser stays failed");
    }
  });
}

Deno.test("frame parser: valid frames before a violation are not lost when pushed separately", () => {
  const parser = new FrameParser({ masking: "forbidden" });
  assertEquals(parser.push(hex("810168")).length, 1);
  let code: string | undefined;
  try {
    parser.push(hex("c100"));
  } catch (error) {
    code = (error as WsProtocolError).code;
  }
  assertEquals(code, "WS_ERR_RESERVED_BITS");
});
