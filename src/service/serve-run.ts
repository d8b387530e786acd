/**
 * One run of a gadget on this node for a client, under the daemon's policy: the request becomes
 * a RunConfig (registries, pull cap, admission fields from the policy), the image is prepared
 * (pulled as allowed, admitted), its programs are counted against the client before they are
 * loaded, and the engine runs it with the gRPC stream as its output. Shared by RunGadget (the
 * client's call is the sink) and headless instances (the instance's buffer is).
 */
import { IgError } from '../errors.js';
import { prepareGadget, runPrepared } from '../engine/run.js';
import { fromRequest, clientFormat, type DaemonRunSettings, type RunRequestMsg } from './request.js';
import { streamOutput } from './stream-output.js';
import type { ClientLimits, Session } from './limits.js';
import type { ClientIdentity } from './identity.js';

/** Where a run's messages go (each gets the node's name added by the sender). */
export interface RunSink {
  /** a `batch` message's `json` is readable during the call only: a sink that keeps it copies it */
  send(m: Record<string, unknown>): void;
  /** the reader is behind: whole batches are dropped (and counted as lost) */
  full(): boolean;
  /** calls `fn` once the reader has caught up; with it the run stops reading the kernel meanwhile (stream-output.ts) */
  drained?(fn: () => void): void;
}

export interface NodeRuns {
  node: string;
  settings: DaemonRunSettings;
  limits: ClientLimits;
}

export interface RunOptions {
  /** send every field (headless instances: the attaching client chooses what to show) */
  allFields?: boolean;
  /** the gadget is loaded and attached */
  attached?: () => void;
  /** ignore the request's timeout (headless instances run until deleted) */
  noTimeout?: boolean;
}

export function asIgError(err: unknown): IgError {
  return err instanceof IgError ? err : new IgError('internal', (err as Error)?.message ?? String(err));
}

/** Run `req` for `client` until it ends or `stop`; the last message sent is always `done`. Resolves with the error, if any. */
export async function runForClient(n: NodeRuns, client: ClientIdentity, req: RunRequestMsg, sink: RunSink, stop: AbortSignal, o: RunOptions = {}): Promise<IgError | undefined> {
  let session: Session | undefined;
  let failure: IgError | undefined;
  try {
    if (!req.image) throw new IgError('usage', 'a run needs an image');
    session = n.limits.open(client);
    const notice = (text: string) => sink.send({ notice: text });
    const cfg = fromRequest(o.noTimeout ? { ...req, timeout_seconds: 0 } : req, n.settings, notice);
    const p = await prepareGadget(cfg, stop);
    try {
      session.addPrograms(p.spec.programs.length);
      if (stop.aborted) return undefined;
      const output = streamOutput({
        datasource: (ds) => sink.send({ datasource: ds }),
        batch: (b) => sink.send({ batch: b }),
        full: sink.full,
        drained: sink.drained,
      }, { fields: cfg.fields, allFields: o.allFields || clientFormat(req) !== 'columns' });
      await runPrepared(p, cfg, { output, notice, attached: o.attached }, stop);
    } finally {
      await p.close();
    }
    sink.send({ done: { exit_code: 0, error: '', hint: '' } });
  } catch (err) {
    failure = asIgError(err);
    sink.send({ done: { exit_code: failure.exitCode, error: failure.message, hint: failure.hint ?? '' } });
  } finally {
    session?.close();
  }
  return failure;
}
