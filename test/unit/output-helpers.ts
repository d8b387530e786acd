// shared by the output-* tests (not a test file itself)
import { Writable } from 'node:stream';

export class Capture extends Writable {
  chunks: string[] = [];
  isTTY?: boolean;
  columns?: number;
  constructor(opts: { tty?: boolean; columns?: number } = {}) {
    super();
    this.isTTY = opts.tty;
    this.columns = opts.columns;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  get text(): string {
    return this.chunks.join('');
  }
}
