import cliProgress from 'cli-progress';

/** One bar per blob on a TTY; silent otherwise (stderr not a TTY, or progress disabled). */
export class Progress {
  private multi?: cliProgress.MultiBar;

  constructor(enabled: boolean) {
    if (enabled && process.stderr.isTTY) {
      this.multi = new cliProgress.MultiBar(
        {
          stream: process.stderr,
          format: '{name} [{bar}] {percentage}% {value}/{total} B',
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  bar(name: string, total: number): (n: number) => void {
    if (!this.multi) return () => {};
    const b = this.multi.create(total, 0, { name: name.padEnd(19).slice(0, 19) });
    return (n) => b.increment(n);
  }

  stop(): void {
    this.multi?.stop();
  }
}
