/**
 * `gadget_uid` / `gadget_gid` → user / group name from /etc/passwd and /etc/group.
 * Files are read once and re-read (at most every 5 s) when an id is not found, so users created
 * while a gadget runs show up. Unresolvable ids print as the number.
 */
import { readFileSync, statSync } from 'node:fs';

export class IdNameResolver {
  private names = new Map<number, string>();
  private loadedMtime = -1;
  private lastCheck = 0;

  constructor(
    private readonly path: string,
    private readonly recheckMs = 5000,
  ) {}

  private load(): void {
    let mtime: number;
    try {
      mtime = statSync(this.path).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.loadedMtime) return;
    this.loadedMtime = mtime;
    const names = new Map<number, string>();
    try {
      for (const line of readFileSync(this.path, 'utf8').split('\n')) {
        if (line === '' || line.startsWith('#')) continue;
        const parts = line.split(':');
        if (parts.length < 3) continue;
        const id = Number(parts[2]);
        // first entry for an id wins, as getpwuid() does
        if (Number.isInteger(id) && !names.has(id)) names.set(id, parts[0]!);
      }
    } catch {
      return;
    }
    this.names = names;
  }

  /** The name, or undefined when unknown. */
  lookup(id: number): string | undefined {
    if (this.loadedMtime === -1 && this.lastCheck === 0) {
      this.lastCheck = Date.now();
      this.load();
    }
    let n = this.names.get(id);
    if (n === undefined) {
      const now = Date.now();
      if (now - this.lastCheck >= this.recheckMs) {
        this.lastCheck = now;
        this.load();
        n = this.names.get(id);
      }
    }
    return n;
  }

  format(v: unknown): string {
    const id = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : NaN;
    if (!Number.isInteger(id)) return String(v);
    return this.lookup(id) ?? String(id);
  }
}

let users = new IdNameResolver('/etc/passwd');
let groups = new IdNameResolver('/etc/group');

/** Point the resolvers elsewhere (e.g. a host root mounted at /host, or test fixtures). */
export function setIdFiles(passwd: string, group: string): void {
  users = new IdNameResolver(passwd);
  groups = new IdNameResolver(group);
}

export function formatUid(v: unknown): string {
  return users.format(v);
}

export function formatGid(v: unknown): string {
  return groups.format(v);
}
