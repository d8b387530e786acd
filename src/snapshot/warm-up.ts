/**
 * Code run while the start-up snapshot is built, so that V8 keeps it compiled in the blob (a
 * function that never ran is compiled on its first call, after every start). Only work on made-up
 * input: nothing here may depend on the machine, and nothing it leaves behind may be used later.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { Writable } from 'node:stream';
import { joinDashValues } from '../cli/run/flags.js';
import { fastRunFlags } from '../cli/run/fast-flags.js';

export function warmUp(): void {
  // Node's fs.promises (with fs/dir, the watchers and readline it loads) is outside node's own
  // snapshot and loaded at first use: the store reads with it on every run
  void fs.promises.readFile;
  for (const argv of [['run', 'trace_open', '-o', 'json'], ['run', 'x', '--fields', 'pid,comm', '-F', 'pid==1', '--timeout', '1', '--host']]) {
    fastRunFlags(joinDashValues(argv));
  }
  warmNode();
}

/**
 * Node's own functions that every `ig run` calls and node's bootstrap never did: ig's code is in the
 * blob compiled (scripts/build-snapshot.mjs compiles it eagerly), node's is compiled on first call,
 * ~200 functions and ~5 ms of each start before this (bench/README.md "Start-up, round ten").
 * Not process.stdout (its stream type is the build's), not perf_hooks (kept out of the run path).
 */
function warmNode(): void {
  const noop = () => {};
  // run-main's stop signal
  const stop = new AbortController();
  stop.signal.addEventListener('abort', noop, { once: true });
  stop.signal.removeEventListener('abort', noop);
  stop.signal.addEventListener('abort', noop);
  stop.abort();
  void stop.signal.aborted;
  // timers: cleared, then ones that run in the build's event loop, the last of which leaves node's
  // timer state as it was (no lists, next expiry "never"). Node arms its one uv timer only for a
  // list due before the next expiry it remembers; a timer only cleared left its due time (~1 s
  // after the build's start) in the blob, and in a run whose first timer was due later than that
  // (a slow start, a busy machine) no timer ever fired: `ig run -t 1` did not end.
  clearTimeout(setTimeout(noop, 1_000).unref());
  clearInterval(setInterval(noop, 1_000));
  setTimeout(noop, 1).unref().ref();
  const tick = setInterval(() => clearInterval(tick), 1);
  clearImmediate(setImmediate(noop));
  setImmediate(noop); // this one runs: the loop's processImmediate
  // Buffer's methods the store, the spec and the consumer use
  const text = Buffer.from('warm-up', 'utf8');
  const b = Buffer.allocUnsafe(16).fill(0);
  text.copy(b, 0);
  b.write('x', 8);
  b.write('x', 10, 'latin1');
  b.writeUInt8(1, 9);
  void [b.readBigUInt64LE(0), text.toString(), text.toString('latin1'), text.subarray(1, 3), text.slice(1, 3)];
  void [text.includes('u'), text.indexOf(0x2d), text.equals(b), Buffer.byteLength('x'), Buffer.byteLength('aGk=', 'base64'), Buffer.allocUnsafeSlow(8)];
  // fs's synchronous reads (the store's files, the caches), on a file that reads as empty
  void fs.readFileSync(os.devNull);
  void fs.statSync(os.devNull).isDirectory();
  void fs.statSync(os.devNull, { bigint: true });
  void fs.realpathSync.native(os.devNull);
  const fd = fs.openSync(os.devNull, 'w');
  fs.writeSync(fd, b);
  void fs.fstatSync(fd);
  fs.closeSync(fd);
  // the stdout stream's base class (process.stdout itself is made at run time)
  new Writable({ write: (_chunk, _encoding, done) => done() }).end(text);
  void [os.release(), os.version()];
  void createHash('sha256').update(text).digest('hex');
  void createRequire(os.devNull);
  Promise.reject(new Error('warm-up')).catch(noop);
}
