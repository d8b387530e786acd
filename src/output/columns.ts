/**
 * Columns output, as IG prints it: an UPPERCASE header (`PID`, `COMM`, `K8S.PODNAME`), fixed-width
 * columns separated by one space, widths from the field's annotations (`columns.width`, `minwidth`,
 * `maxwidth`, `alignment`, `ellipsis`) or its `template`, hidden fields left out by default.
 * On a TTY the columns shrink (down to their minimum width) to fit `stream.columns`, and values
 * too long for their column are cut with `…` where the field's `ellipsis` says (end by default);
 * elsewhere the width is unlimited and nothing is cut (a long value pushes the rest of its row). Tracers stream rows under one header; snapshot batches
 * (toppers/snapshotters) are whole tables: on a TTY the screen is cleared and redrawn, otherwise
 * each table is printed with its own header.
 */
import type { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import { OutputBuffer } from './bytes.js';
import { compileRowWriter, type CompiledRowWriter } from './columns-rows.js';
import { columnFor, fitColumns, renderHeader, type Column } from './column-layout.js';
import { Sink, type SinkOptions } from './sink.js';

export { columnFor, fitColumns, cut, renderHeader, renderRow, type Column } from './column-layout.js';

export interface ColumnsSinkOptions extends SinkOptions {
  /** terminal width; default the target's on a TTY, unlimited otherwise */
  width?: number;
  /** force TTY behaviour (screen redraw for snapshots, width fitting) on or off */
  tty?: boolean;
}

const CLEAR = '\x1b[H\x1b[2J';

export class ColumnsSink extends Sink {
  protected readonly allByDefault = false;
  private readonly out: OutputBuffer;
  private baseCols: Column[] = [];
  private cols: Column[] = [];
  private rows?: CompiledRowWriter;
  private unlisten?: () => void;
  private headerDone = false;
  private tables = 0;
  private readonly tty: boolean;
  private lastTermWidth: number | undefined;

  constructor(ds: RunDataSource, private readonly copts: ColumnsSinkOptions) {
    super(ds, copts);
    this.out = new OutputBuffer(this.target);
    this.tty = copts.tty ?? this.target.isTTY;
    this.lastTermWidth = this.termWidth();
  }

  private termWidth(): number | undefined {
    if (this.copts.width !== undefined) return this.copts.width;
    return this.tty ? this.target.columns : undefined;
  }

  protected override fieldsChanged(): void {
    // cut with … on a terminal only; into a file or a pipe every value is whole (IG's PR 2451)
    this.baseCols = this.fields.map((f) => ({ ...columnFor(f), truncate: this.tty }));
    this.fit();
  }

  private fit(): void {
    this.cols = fitColumns(this.baseCols, this.lastTermWidth);
    this.unlisten?.();
    const w = compileRowWriter(this.ds, this.cols);
    this.rows = w;
    this.unlisten = this.ds.onInvalidate(() => w.clear());
  }

  /** Current column layout (after fitting to the terminal). */
  get columns(): readonly Column[] {
    void this.fields;
    return this.cols;
  }

  private refit(): void {
    const w = this.termWidth();
    if (w !== this.lastTermWidth) {
      this.lastTermWidth = w;
      this.fit();
    }
  }

  /** Tracers: the header right after attaching, so the user sees it before any event (and without one). */
  override begin(): void {
    if (this.ds.kind === 'tracer') this.writeHeader();
  }

  writeHeader(): void {
    if (this.headerDone) return;
    this.headerDone = true;
    this.out.text(renderHeader(this.columns) + '\n');
    this.out.flush();
  }

  write(b: Batch): void {
    if (b.snapshot) {
      this.renderTable(b);
      return;
    }
    if (this.overloaded(b)) return;
    void this.fields;
    if (!this.headerDone) {
      this.headerDone = true;
      this.out.text(renderHeader(this.cols) + '\n');
    }
    this.shown += this.out.rows(b, this.rows!.write, this.rows!.maxBytes, { after: 10, trimSpaces: true });
    this.out.flush();
  }

  /** A whole table: on a TTY clear the screen and redraw; otherwise print it with its header. */
  private renderTable(b: Batch): void {
    if (this.overloaded(b)) return;
    void this.fields;
    this.refit();
    if (this.tty) this.out.text(CLEAR);
    else if (this.tables > 0) this.out.text('\n');
    this.tables++;
    this.out.text(renderHeader(this.cols) + '\n');
    this.shown += this.out.rows(b, this.rows!.write, this.rows!.maxBytes, { after: 10, trimSpaces: true });
    this.out.flush();
  }

  override async end(): Promise<void> {
    this.unlisten?.();
    await super.end();
  }
}
