/**
 * Headless gadget instances: runs that belong to the daemon rather than to a client's call
 * (`ig run --detach`). Each keeps its datasources' field lists, the latest table of each
 * snapshot datasource and a bounded buffer of its most recent events (`--events-buffer-length`
 * events; older batches are dropped first), so a client can attach later and replay them, then
 * follow live. Every instance runs through runForClient, under the daemon's policy and counted
 * as one of its creator's sessions.
 *
 * With a state directory, each instance's request, name, tags and owner are written to
 * `<state>/instances/<id>.json` (0600, temp file + rename) and started again when the daemon
 * starts; deleting an instance removes its file.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import path from 'node:path';
import { IgError } from '../errors.js';
import { parseReference, shortName } from '../oci/reference.js';
import { fromRequest, type RunRequestMsg } from './request.js';
import { runForClient, asIgError, type NodeRuns, type RunSink } from './serve-run.js';
import type { ClientIdentity } from './identity.js';

type Msg = Record<string, unknown>;
type InstanceStatus = 'starting' | 'running' | 'error' | 'stopped';

/** What is persisted of an instance. */
export interface InstanceRecord {
  id: string;
  name: string;
  tags: string[];
  createdUnixMs: number;
  request: RunRequestMsg;
  owner: ClientIdentity;
}

/** An attached client. */
export interface Subscriber {
  write(m: Msg): void;
  /** the client is behind: batches are dropped for it (counted as lost) */
  full(): boolean;
  end(): void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const TAG = /^[^,\s]{1,63}$/;

/** Lines in a chunk of JSON lines: the events a batch carries. */
function eventsIn(json: Buffer): number {
  let n = 0;
  for (let i = json.indexOf(10); i >= 0; i = json.indexOf(10, i + 1)) n++;
  return n;
}

class Instance {
  status: InstanceStatus = 'starting';
  message = '';
  readonly stop = new AbortController();
  done: Promise<unknown> = Promise.resolve();
  private readonly datasources = new Map<string, Msg>();
  private readonly tables = new Map<string, Msg>();
  private buffer: { msg: Msg; events: number }[] = [];
  private buffered = 0;
  private readonly subscribers = new Map<Subscriber, { lost: number }>();

  constructor(readonly record: InstanceRecord, private readonly node: string, private readonly maxEvents: number) {}

  /** The run's output: kept for later attaches and passed to the attached clients. */
  readonly sink: RunSink = {
    full: () => false,
    send: (m: Msg) => {
      const msg: Msg = { ...m, node: this.node };
      if (m.datasource) this.datasources.set((m.datasource as { name: string }).name, msg);
      else if (m.batch) {
        // kept for replay: a copy of the writer's reused buffer
        const b = m.batch as { datasource: string; json: Buffer; lost: number; snapshot: boolean };
        msg.batch = { ...b, json: Buffer.from(b.json) };
        return this.keepBatch(msg, msg.batch as typeof b);
      } else if (m.done) {
        const d = m.done as { exit_code: number; error: string };
        if (this.status !== 'stopped') {
          this.status = d.exit_code === 0 ? 'stopped' : 'error';
          this.message = d.exit_code === 0 ? 'the gadget ended' : d.error;
        }
        for (const [s] of this.subscribers) {
          s.write(msg);
          s.end();
        }
        this.subscribers.clear();
        return;
      }
      this.broadcast(msg);
    },
  };

  private keepBatch(msg: Msg, b: { datasource: string; json: Buffer; lost: number; snapshot: boolean }): void {
    if (b.snapshot) {
      this.tables.set(b.datasource, msg);
    } else if (b.json.length) {
      const events = eventsIn(b.json);
      this.buffer.push({ msg, events });
      this.buffered += events;
      while (this.buffered > this.maxEvents && this.buffer.length > 1) this.buffered -= this.buffer.shift()!.events;
    }
    for (const [s, st] of this.subscribers) {
      if (s.full()) {
        st.lost += b.snapshot ? 0 : eventsIn(b.json);
        continue;
      }
      if (st.lost) {
        s.write({ ...msg, batch: { ...b, lost: Number(b.lost) + st.lost } });
        st.lost = 0;
      } else s.write(msg);
    }
  }

  private broadcast(msg: Msg): void {
    for (const [s] of this.subscribers) s.write(msg);
  }

  attach(s: Subscriber, replay: boolean): () => void {
    for (const m of this.datasources.values()) s.write(m);
    if (replay) {
      for (const m of this.tables.values()) s.write(m);
      for (const b of this.buffer) s.write(b.msg);
    }
    if (this.status === 'error' || this.status === 'stopped') {
      s.write({ done: { exit_code: this.status === 'error' ? 1 : 0, error: this.status === 'error' ? this.message : '', hint: '' }, node: this.node });
      s.end();
      return () => {};
    }
    this.subscribers.set(s, { lost: 0 });
    return () => this.subscribers.delete(s);
  }

  describe(): Msg {
    const r = this.record;
    return {
      id: r.id, name: r.name, tags: r.tags, image: r.request.image, created_unix_ms: r.createdUnixMs,
      status: this.status, message: this.message, node: this.node, params: r.request.params ?? {},
    };
  }
}

export interface InstanceOptions {
  /** where instances are persisted; undefined: kept in memory only */
  stateDir?: string;
  /** events kept per instance for replay */
  bufferEvents: number;
}

export class InstanceManager {
  private readonly instances = new Map<string, Instance>();

  constructor(private readonly runs: NodeRuns, private readonly o: InstanceOptions) {}

  private get dir(): string | undefined {
    return this.o.stateDir ? path.join(this.o.stateDir, 'instances') : undefined;
  }

  /** Start an instance and answer once it runs, or fail with what kept it from starting (nothing kept then). */
  async create(client: ClientIdentity, req: { run: RunRequestMsg; name: string; tags: string[] }): Promise<Msg> {
    if (!req.run?.image) throw new IgError('usage', 'an instance needs an image');
    fromRequest(req.run, this.runs.settings); // a bad request fails here, before an id is taken
    const id = randomBytes(16).toString('hex');
    const name = req.name || `${shortName(parseReference(req.run.image).name).replace(/[^A-Za-z0-9_.-]/g, '_')}-${id.slice(0, 6)}`;
    if (!NAME.test(name)) throw new IgError('usage', `"${name}" is not an instance name`, { hint: 'use letters, digits, "-", "_" and ".", at most 63, starting with a letter or digit' });
    if ([...this.instances.values()].some((i) => i.record.name === name)) {
      throw new IgError('usage', `an instance named "${name}" already exists on this daemon`, { hint: 'choose another --name, or `ig delete` it first' });
    }
    const tags = req.tags ?? [];
    const badTag = tags.find((t) => !TAG.test(t));
    if (badTag !== undefined) throw new IgError('usage', `"${badTag}" is not a tag`, { hint: 'tags are 1-63 characters without commas or spaces' });
    const record: InstanceRecord = { id, name, tags, createdUnixMs: Date.now(), request: { ...req.run, timeout_seconds: 0 }, owner: client };
    let onAttached = () => {};
    const attached = new Promise<'attached'>((resolve) => (onAttached = () => resolve('attached')));
    const inst = this.start(record, () => onAttached());
    const outcome = await Promise.race([attached, inst.done.then((e) => e as IgError | undefined)]);
    if (outcome !== 'attached') {
      this.instances.delete(id);
      throw outcome ?? new IgError('internal', `instance ${name} ended before it started`);
    }
    try {
      this.persist(record);
    } catch (e) {
      inst.stop.abort();
      await inst.done;
      this.instances.delete(id);
      throw e;
    }
    return inst.describe();
  }

  private start(record: InstanceRecord, onAttached?: () => void): Instance {
    const inst = new Instance(record, this.runs.node, this.o.bufferEvents);
    this.instances.set(record.id, inst);
    inst.done = runForClient(this.runs, record.owner, record.request, inst.sink, inst.stop.signal, {
      allFields: true,
      noTimeout: true,
      attached: () => {
        inst.status = 'running';
        onAttached?.();
      },
    }).catch((e) => asIgError(e));
    return inst;
  }

  /** The instances `client` may see: its own (uid 0 on the unix socket: all). */
  list(client: ClientIdentity): Msg[] {
    return [...this.instances.values()].filter((i) => this.mayUse(client, i)).map((i) => i.describe());
  }

  private mayUse(client: ClientIdentity, i: Instance): boolean {
    return client.key === 'uid:0' || i.record.owner.key === client.key;
  }

  /** By name, id, or a unique prefix of an id. */
  find(client: ClientIdentity, ref: string): Instance {
    const mine = [...this.instances.values()].filter((i) => this.mayUse(client, i));
    const byName = mine.filter((i) => i.record.name === ref);
    const hits = byName.length ? byName : ref.length >= 4 ? mine.filter((i) => i.record.id.startsWith(ref)) : [];
    if (hits.length === 0) throw new IgError('not-found', `no gadget instance "${ref}" on this daemon`, { hint: '`ig list --remote-address …` shows the instances' });
    if (hits.length > 1) throw new IgError('usage', `"${ref}" names ${hits.length} instances`, { hint: 'give more of the id' });
    return hits[0]!;
  }

  attach(client: ClientIdentity, ref: string, replay: boolean, s: Subscriber): () => void {
    return this.find(client, ref).attach(s, replay);
  }

  async delete(client: ClientIdentity, ref: string): Promise<Msg> {
    const inst = this.find(client, ref);
    inst.sink.send({ notice: `instance ${inst.record.name} deleted\n` });
    inst.status = 'stopped';
    inst.message = 'deleted';
    inst.stop.abort();
    await inst.done;
    this.instances.delete(inst.record.id);
    if (this.dir) rmSync(path.join(this.dir, `${inst.record.id}.json`), { force: true });
    return inst.describe();
  }

  /** Start the persisted instances again (after a daemon restart); one that cannot start is listed with its error. */
  restore(warn: (line: string) => void): void {
    const dir = this.dir;
    if (!dir) return;
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => /^[0-9a-f]{32}\.json$/.test(f));
    } catch {
      return;
    }
    for (const f of files) {
      try {
        const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as InstanceRecord;
        if (r.id !== f.slice(0, -5) || !r.request?.image || !r.owner?.key) throw new Error('not an instance record');
        this.start(r);
      } catch (e) {
        warn(`ig daemon: warning: ignoring ${path.join(dir, f)}: ${(e as Error).message}\n`);
      }
    }
  }

  private persist(r: InstanceRecord): void {
    const dir = this.dir;
    if (!dir) return;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${r.id}.json`);
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, JSON.stringify(r, null, 2) + '\n', { mode: 0o600 });
      const fd = openSync(tmp, 'r');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new IgError('store', `cannot save instance ${r.name} in ${dir}: ${(e as Error).message}`, { hint: 'check the daemon\'s --state-dir' });
    }
  }

  /** Daemon shutdown: stop every instance (their files stay, so they start again with the daemon). */
  async closeAll(): Promise<void> {
    for (const i of this.instances.values()) i.stop.abort();
    await Promise.allSettled([...this.instances.values()].map((i) => i.done));
  }
}
