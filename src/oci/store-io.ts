import { createHash } from 'node:crypto';
import fsSync, { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { IgError } from '../errors.js';

/**
 * The file operations of the local store, each safe against a crash or a full disk: directories
 * made one level at a time (Node's recursive mkdir loops forever under /proc), files written to a
 * temp name, fsync'ed and renamed into place, and errors of the disk turned into IgErrors that say
 * what could not be written where, with the partial file already removed.
 */

/** Files up to this size are read with plain system calls: see readStoreFile. */
const SYNC_READ_MAX = 4 << 20;

/**
 * A file of the store, whole; `check(size)` may refuse it (throw) before it is read. Small files
 * (index.json, manifests, configs, a gadget's layers: KBs) are read without Node's thread pool:
 * `ig run` reads ~6 of them before anything else can happen, and each asynchronous step
 * (open, stat, read, close) is a round trip through a pool thread that a loaded machine must
 * first schedule (~8 ms of wall time to the first event, bench/README.md "Start-up, round four").
 * Larger ones (up to the caller's limit) are read asynchronously, not to hold a daemon's loop.
 */
export async function readStoreFile(file: string, check: (size: number) => void): Promise<Buffer> {
  const fd = fsSync.openSync(file, 'r');
  let size: number;
  try {
    size = fsSync.fstatSync(fd).size;
    check(size);
    if (size <= SYNC_READ_MAX) {
      const buf = Buffer.allocUnsafe(size);
      let off = 0;
      for (let n = 1; off < size && n > 0; off += n) n = fsSync.readSync(fd, buf, off, size - off, off);
      return off === size ? buf : buf.subarray(0, off);
    }
  } finally {
    fsSync.closeSync(fd);
  }
  return fs.readFile(file);
}

/** mkdir -p that fails instead of looping: each missing level is made once. */
export async function ensureDir(dir: string, mode = 0o700, depth = 0): Promise<void> {
  try {
    await fs.mkdir(dir, { mode });
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (!(await fs.stat(dir)).isDirectory()) throw Object.assign(new Error(`${dir} exists and is not a directory`), { code: 'ENOTDIR' });
      return;
    }
    if (code !== 'ENOENT' || depth > 64 || path.dirname(dir) === dir) throw e;
  }
  await ensureDir(path.dirname(dir), mode, depth + 1);
  await fs.mkdir(dir, { mode }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

/** An error of the disk under the store, in the user's words. */
export function diskError(e: unknown, what: string, root: string): IgError {
  if (e instanceof IgError) return e;
  const err = e as NodeJS.ErrnoException;
  const where = `the local store ${root}`;
  switch (err.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new IgError('store', `no space left on the disk of ${where} while writing ${what}`, {
        hint: 'free some space (`ig image prune` removes unreferenced blobs) or point --oci-store elsewhere; nothing half-written was kept',
        cause: e,
      });
    case 'EIO':
      return new IgError('store', `I/O error on the disk of ${where} while writing ${what}`, {
        hint: 'the disk may be failing; check `dmesg`; nothing half-written was kept',
        cause: e,
      });
    case 'EROFS':
      return new IgError('store', `${where} is on a read-only file system (writing ${what})`, {
        hint: 'point --oci-store or IG_OCI_STORE at a writable directory',
        cause: e,
      });
    case 'EACCES':
    case 'EPERM':
      return new IgError('store', `no permission to write ${what} in ${where}`, {
        hint: 'run as the store\'s owner (root for the default store) or choose another --oci-store',
        cause: e,
      });
    default:
      return new IgError('store', `cannot write ${what} in ${where}: ${err.message}`, { cause: e });
  }
}

/** Write all of `data` at the current position (a write may be partial). */
export async function writeAll(fh: fs.FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
}

/**
 * Write `data` to `tmp`, fsync it (unless `sync: false`: for files worth nothing after a crash),
 * rename it to `file`, and with `syncDir` fsync the directory so the rename itself is durable. On any failure the temp file is removed
 * and the error is thrown as it came (callers turn it into a diskError).
 */
export async function writeFileDurably(tmp: string, file: string, data: string | Buffer, opts: { sync?: boolean; syncDir?: boolean } = {}): Promise<void> {
  const { sync = true, syncDir = false } = opts;
  try {
    const fh = await fs.open(tmp, 'wx', 0o644);
    try {
      await writeAll(fh, typeof data === 'string' ? Buffer.from(data) : data);
      if (sync) await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  if (syncDir) await syncDirectory(path.dirname(file));
}

/** fsync a directory, so a rename in it survives a crash (best effort: not every file system allows it). */
async function syncDirectory(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => {});
  await fh.close();
}

/** sha256 of a file, streamed (a blob is never read whole just to check it). */
export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return 'sha256:' + h.digest('hex');
}
