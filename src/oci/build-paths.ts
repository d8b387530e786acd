/**
 * Paths a gadget directory names (build.yaml's ebpfsource, metadata, wasm) are untrusted: the directory
 * may come from anyone. Each must stay inside the directory, both as written (no `..` out, no absolute
 * path elsewhere) and once symlinks are followed (a `gadget.yaml -> /etc/shadow` would copy a host file
 * into the image), and must not look like a compiler flag (`-fplugin=…`) or a response file (`@args.rsp`,
 * which clang expands into flags): IG refuses those two for the same reason.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { IgError } from '../errors.js';

export interface ConfinedPath {
  /** As written in build.yaml (relative to the gadget directory). */
  given: string;
  /** Absolute, symlinks resolved, inside the directory. */
  real: string;
  /** `real` relative to the (real) gadget directory: what the sandboxed compiler is given. */
  relative: string;
}

const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/** Refuse what a tool could read as an option rather than a file. */
export function refuseFlagLike(value: string, key: string): void {
  const v = value.trim();
  if (v.startsWith('-')) {
    throw new IgError('build', `build.yaml "${key}: ${value}" looks like a compiler flag, not a file`, {
      hint: 'build.yaml names files only; flags are fixed by ig (see spec/gadget-image-format.md)',
    });
  }
  if (v.startsWith('@')) {
    throw new IgError('build', `build.yaml "${key}: ${value}" is a response file (@file), which clang would read as more flags`, {
      hint: 'name the source file itself; ig passes no user-chosen flags to the compiler',
    });
  }
  if (v.includes('\0')) throw new IgError('build', `build.yaml "${key}" contains a NUL byte`);
}

/**
 * Resolve `given` against the gadget directory `dirReal` (itself already realpath'd) and check that it
 * stays inside, before and after following symlinks. Returns undefined when the file does not exist
 * (the caller decides whether that is an error); `mustExist` makes it one.
 */
export async function confine(dirReal: string, given: string, key: string, mustExist = false): Promise<ConfinedPath | undefined> {
  refuseFlagLike(given, key);
  const lexical = path.resolve(dirReal, given);
  if (!inside(dirReal, lexical)) {
    throw new IgError('build', `build.yaml "${key}: ${given}" points outside the gadget directory ${dirReal}`, {
      hint: 'every file of a gadget must be inside its directory',
    });
  }
  let real: string;
  try {
    real = await fs.realpath(lexical);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new IgError('build', `cannot read ${lexical}: ${(e as Error).message}`);
    const link = await fs.lstat(lexical).catch(() => undefined);
    if (link?.isSymbolicLink()) {
      throw new IgError('build', `${lexical} is a symlink to a missing file (${await fs.readlink(lexical)})`, { hint: 'replace the symlink by the file' });
    }
    if (mustExist) throw new IgError('not-found', `${key} file ${lexical} not found`, { hint: `set "${key}:" in build.yaml to a file in ${dirReal}` });
    // a file yet to be written (--update-metadata): its directory must not lead out either
    const parent = await fs.realpath(path.dirname(lexical)).catch(() => undefined);
    if (parent !== undefined && !inside(dirReal, parent)) {
      throw new IgError('build', `${lexical} is under a symlink leading outside the gadget directory (to ${parent})`, {
        hint: 'every file of a gadget must be inside its directory',
      });
    }
    return undefined;
  }
  if (!inside(dirReal, real)) {
    throw new IgError('build', `${lexical} is a symlink leading outside the gadget directory (to ${real})`, {
      hint: 'copy the file into the gadget directory instead of linking to it',
    });
  }
  const st = await fs.stat(real);
  if (!st.isFile()) throw new IgError('build', `${key} ${lexical} is not a regular file`);
  return { given, real, relative: path.relative(dirReal, real) };
}
