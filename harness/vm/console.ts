// The guest's serial console as captured from QEMU: kept in memory for classification and marks
// (offsets that let a step look only at what it printed) and written to a file as it arrives.
import { createWriteStream, type WriteStream } from "node:fs";

export class ConsoleLog {
  private text = "";
  private lastOutputAt = Date.now();
  private file?: WriteStream;
  private listeners: ((chunk: string) => void)[] = [];

  constructor(filePath?: string) {
    if (filePath) this.file = createWriteStream(filePath);
  }

  append(chunk: string): void {
    this.text += chunk;
    this.lastOutputAt = Date.now();
    this.file?.write(chunk);
    for (const l of this.listeners) l(chunk);
  }

  onData(listener: (chunk: string) => void): void {
    this.listeners.push(listener);
  }

  /** A mark: the current end of the log. */
  mark(): number {
    return this.text.length;
  }

  since(mark = 0): string {
    return this.text.slice(mark);
  }

  all(): string {
    return this.text;
  }

  /** Last `n` lines, for error messages. */
  tail(n = 30): string {
    return this.text.split("\n").slice(-n).join("\n");
  }

  silentForMs(): number {
    return Date.now() - this.lastOutputAt;
  }

  async close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    if (f) await new Promise<void>((resolve) => f.end(resolve));
  }
}
