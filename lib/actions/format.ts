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
