/**
 * A one-line progress bar on stderr: redrawn in place on a terminal, a line per tenth otherwise
 * (so logs of scripted runs stay short).
 */
export class ProgressBar {
  private readonly started = performance.now();
  private lastTenth = -1;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total: number, detail = ""): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
    const line = `${this.label} ${bar} ${Math.floor(fraction * 100)}% ${done}/${total} (${rate}/s)${detail ? ` ${detail}` : ""}`;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line}`);
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (tenth !== this.lastTenth) {
      this.lastTenth = tenth;
      this.out.write(`${line}\n`);
    }
  }

  finish(): void {
    if (this.out.isTTY) this.out.write("\n");
  }
}
