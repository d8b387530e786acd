import type { ContainerInfo } from '../types.js';

/** One container runtime ig asks about its containers. */
export interface RuntimeSource {
  /** "containerd", "cri-o", "podman", "docker" */
  readonly runtime: string;
  readonly socket: string;
  /** check the runtime answers; throws if not */
  connect(): Promise<void>;
  /** every running container right now (pid and namespaces filled in) */
  list(): Promise<ContainerInfo[]>;
  /**
   * Optional push channel: call `changed` whenever the runtime reports a container
   * event (the collection then refreshes at once instead of waiting for its poll).
   * Returns false when the runtime has no such channel. Must not keep node alive.
   */
  watch?(changed: () => void): boolean;
  close(): void;
}

/** nanoseconds since the epoch (as a decimal string) → RFC 3339, '' for 0 */
export function nsToIso(ns: string | number | undefined): string {
  if (ns === undefined || ns === null) return '';
  try {
    const n = BigInt(ns);
    if (n <= 0n) return '';
    return new Date(Number(n / 1_000_000n)).toISOString();
  } catch {
    return '';
  }
}

/** Image digest from a CRI image_ref / docker RepoDigest ("name@sha256:…" or "sha256:…"). */
export function digestOf(ref: string | undefined): string {
  if (!ref) return '';
  const at = ref.lastIndexOf('@');
  if (at >= 0) return ref.slice(at + 1);
  if (/^sha256:[0-9a-f]{64}$/.test(ref)) return ref;
  if (/^[0-9a-f]{64}$/.test(ref)) return `sha256:${ref}`;
  return '';
}
