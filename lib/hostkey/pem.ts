/** PEM armour: RFC 7468 blocks, plus the RFC 1421 headers of legacy OpenSSL keys (`Proc-Type`, `DEK-Info`). */

export interface PemBlock {
  label: string;
  /** RFC 1421 headers such as `Proc-Type` and `DEK-Info` (legacy encrypted keys only). */
  headers: Record<string, string>;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export function encodePem(label: string, der: Uint8Array): string {
  const base64 = der.toBase64();
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Every PEM block in `text`, in order. */
export function decodePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const headers: Record<string, string> = {};
    const body: string[] = [];
    for (const line of match[2].split(/\r?\n/)) {
      const header = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (header) headers[header[1]] = header[2].trim();
      else body.push(line.trim());
    }
    blocks.push({ label: match[1], headers, der: Uint8Array.fromBase64(body.join("")) });
  }
  return blocks;
}
