/** A place per-container programs attach to: the host or one container. */
export interface AttachTarget {
  /** stable key: 'host' or the container id */
  id: string;
  /** a process of the target (its namespaces and root file system) */
  pid: number;
  host: boolean;
  /** for messages */
  name: string;
}
