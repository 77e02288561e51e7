/** Layout shared by the actions' text output. */

/** Names in columns, filled down then across like ls; `width` is each name's printed width (no colour codes). */
export function columns(items: { width: number; text: string }[], lineWidth: number): string {
  if (items.length === 0) return "";
  const gap = 2;
  const widest = Math.max(...items.map((item) => item.width)) + gap;
  const perLine = Math.max(1, Math.floor((lineWidth + gap) / widest));
  const rows = Math.ceil(items.length / perLine);
  const lines: string[] = [];
  for (let row = 0; row < rows; row++) {
    let line = "";
    for (let column = 0; column * rows + row < items.length; column++) {
      const item = items[column * rows + row];
      const last = (column + 1) * rows + row >= items.length;
      line += last ? item.text : item.text + " ".repeat(widest - item.width);
    }
    lines.push(line);
  }
  return lines.join("\n") + "\n";
}

/** 1023 B, 1.5 KB, 2.0 MB: binary units, one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Device program output as host text: MicroPython's print and sys.stdout.write end lines with "\r\n" (the
 * REPL cooks them for a terminal); pipes and files on this computer want "\n". Stateful across chunks, since
 * a "\r\n" may arrive split in two frames.
 */
export function plainLineEnds(write: (bytes: Uint8Array) => void): (bytes: Uint8Array) => void {
  let heldReturn = false;
  return (bytes) => {
    const out: number[] = [];
    for (const byte of bytes) {
      if (heldReturn && byte !== 0x0a) out.push(0x0d);
      heldReturn = byte === 0x0d;
      if (!heldReturn) out.push(byte);
    }
    if (out.length > 0) write(Uint8Array.from(out));
  };
}
