import { describe, expect, it } from 'vitest';
import { LostCounter } from '../../src/datasource/lost.js';
import { waitFor } from '../helpers/kernel.js';

class Lines {
  lines: string[] = [];
  write(s: string): boolean {
    this.lines.push(s);
    return true;
  }
}

describe('LostCounter', () => {
  it('warns at most once per second and prints the total at the end', () => {
    let t = 1000;
    const out = new Lines();
    const c = new LostCounter({ now: () => t });
    c.add(5);
    expect(c.report(out)).toBe(true);
    c.add(3);
    t += 500;
    expect(c.report(out)).toBe(false);
    c.add(0);
    c.add(-1);
    t += 600;
    expect(c.report(out)).toBe(true);
    c.add(1);
    t += 2000;
    c.report(out);
    c.reportTotal(out);
    expect(out.lines).toEqual([
      'warning: lost 5 events\n',
      'warning: lost 3 events\n',
      'warning: lost 1 event\n',
      'warning: lost 9 events in total\n',
    ]);
    expect(c.total).toBe(9);
  });
  it('reports by itself when given a stream, later ones after the interval', async () => {
    const out = new Lines();
    const c = new LostCounter({ stream: out, intervalMs: 30 });
    c.add(2);
    c.add(4);
    expect(out.lines).toEqual(['warning: lost 2 events\n']);
    // the second warning comes from the counter's own timer, once the interval is over: waited for,
    // not timed (a busy machine runs a 30 ms timer late)
    await waitFor(() => out.lines.length >= 2, 10_000, 'the timed second warning');
    expect(out.lines).toEqual(['warning: lost 2 events\n', 'warning: lost 4 events\n']);
    c.close();
  });
  it('at the end, flushes what was lost since the last warning, so the warnings add up to the total', () => {
    let t = 1000;
    const out = new Lines();
    const c = new LostCounter({ now: () => t });
    c.add(7);
    c.report(out);
    t += 100;
    c.add(4);
    expect(c.report(out)).toBe(false); // within the interval: held back
    c.reportTotal(out);
    expect(out.lines).toEqual(['warning: lost 7 events\n', 'warning: lost 4 events\n', 'warning: lost 11 events in total\n']);
  });
  it('says nothing when nothing was lost', () => {
    const out = new Lines();
    new LostCounter().reportTotal(out);
    expect(out.lines).toEqual([]);
  });
});
