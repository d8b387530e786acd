import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A process of ours opening one file of ours again and again: the events a test selects by --pid or by file name. */
export interface FileOpener {
  file: string;
  pid: number;
  child: ChildProcess;
  /** kill the process and remove the file */
  stop(): void;
}

/** Creates a new file in `dir` and a node process that opens and closes it every `everyMs`. */
export function fileOpener(everyMs: number, dir = tmpdir()): FileOpener {
  const file = path.join(dir, `ig-opened-${randomBytes(6).toString('hex')}`);
  writeFileSync(file, 'x');
  const child = spawn(process.execPath, ['-e', `const fs = require('fs'); setInterval(() => fs.closeSync(fs.openSync(${JSON.stringify(file)}, 'r')), ${everyMs});`], { stdio: 'ignore' });
  return {
    file,
    pid: child.pid!,
    child,
    stop: () => {
      child.kill();
      rmSync(file, { force: true });
    },
  };
}
