/**
 * Minimal DER: just what PKCS#8, PBES2 and SEC1 need. Hand-written because @peculiar/asn1-schema has no PBES2
 * schemas and its decorators need `experimentalDecorators` (see notes/deno-platform.md §6).
 */
import { concatBytes } from "../bytes/bytes.ts";

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
} as const;

export interface DerNode {
  tag: number;
  /** The value bytes (without tag and length). */
  content: Uint8Array;
  /** Offset just past this node in the buffer it was read from. */
  end: number;
}

/** A DER structure that does not parse; callers turn it into a user-facing message. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

export function readNode(bytes: Uint8Array, offset = 0): DerNode {
  if (offset + 2 > bytes.length) throw new DerError("truncated DER");
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  let headerLength = 2;
  if (length & 0x80) {
    const lengthBytes = length & 0x7f;
    if (lengthBytes === 0 || lengthBytes > 4) throw new DerError("unsupported DER length");
    if (offset + 2 + lengthBytes > bytes.length) throw new DerError("truncated DER length");
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + bytes[offset + 2 + i];
    headerLength += lengthBytes;
  }
  const start = offset + headerLength;
  const end = start + length;
  if (end > bytes.length) throw new DerError("DER length exceeds data");
  return { tag, content: bytes.subarray(start, end), end };
}

/** Reads one node of the expected tag and requires that it fills `bytes` exactly. */
export function readWhole(bytes: Uint8Array, tag: number): DerNode {
  const node = expectTag(readNode(bytes), tag);
  if (node.end !== bytes.length) throw new DerError("trailing bytes after DER");
  return node;
}

/** The children of a constructed node. */
export function children(node: DerNode): DerNode[] {
  const result: DerNode[] = [];
  let offset = 0;
  while (offset < node.content.length) {
    const child = readNode(node.content, offset);
    result.push(child);
    offset = child.end;
  }
  return result;
}

export function expectTag(node: DerNode | undefined, tag: number): DerNode {
  if (!node) throw new DerError(`missing DER element with tag 0x${tag.toString(16)}`);
  if (node.tag !== tag) {
    throw new DerError(`DER tag 0x${node.tag.toString(16)} where 0x${tag.toString(16)} was expected`);
  }
  return node;
}

export function readInteger(node: DerNode | undefined): number {
  const content = expectTag(node, TAG.integer).content;
  if (content.length === 0 || content.length > 6 || content[0] & 0x80) {
    throw new DerError("DER integer out of range");
  }
  let value = 0;
  for (const byte of content) value = value * 256 + byte;
  return value;
}

export function readOid(node: DerNode | undefined): string {
  const content = expectTag(node, TAG.oid).content;
  if (content.length === 0) throw new DerError("empty OID");
  const parts: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join(".");
}

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function encode(tag: number, content: Uint8Array): Uint8Array {
  const length = encodeLength(content.length);
  const out = new Uint8Array(1 + length.length + content.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(content, 1 + length.length);
  return out;
}

export function sequence(...items: Uint8Array[]): Uint8Array {
  return encode(TAG.sequence, concatBytes(items));
}

export function octetString(bytes: Uint8Array): Uint8Array {
  return encode(TAG.octetString, bytes);
}

export function nullValue(): Uint8Array {
  return encode(TAG.null, new Uint8Array(0));
}

export function integer(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`unsupported DER integer ${value}`);
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  if (bytes.length === 0 || bytes[0] & 0x80) bytes.unshift(0);
  return encode(TAG.integer, Uint8Array.from(bytes));
}

export function oid(dotted: string): Uint8Array {
  const parts = dotted.split(".").map(Number);
  const values = [parts[0] * 40 + parts[1], ...parts.slice(2)];
  const bytes: number[] = [];
  for (const value of values) {
    const group: number[] = [value & 0x7f];
    for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) {
      group.unshift(0x80 | (rest & 0x7f));
    }
    bytes.push(...group);
  }
  return encode(TAG.oid, Uint8Array.from(bytes));
}
