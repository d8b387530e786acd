/**
 * How much of the node each client holds: open sessions (runs, gadget-info calls, headless
 * instances it created) and the eBPF programs they have loaded. A request over a limit is refused
 * with what the client holds and the limit, before anything is loaded.
 */
import { IgError } from '../errors.js';
import type { ClientIdentity } from './identity.js';

interface Holding { sessions: number; programs: number }

export interface Session {
  /** count `n` programs against the client before loading them; throws over the limit */
  addPrograms(n: number): void;
  close(): void;
}

export class ClientLimits {
  private readonly held = new Map<string, Holding>();

  constructor(private readonly maxSessions: number, private readonly maxPrograms: number) {}

  open(client: ClientIdentity): Session {
    const h = this.held.get(client.key) ?? { sessions: 0, programs: 0 };
    if (h.sessions >= this.maxSessions) {
      throw new IgError('denied', `${client.display} already has ${h.sessions} session${h.sessions === 1 ? '' : 's'} on this daemon (its limit is ${this.maxSessions})`, {
        hint: 'end a run or delete a headless instance first, or ask the node\'s operator to raise --max-sessions-per-client',
      });
    }
    h.sessions++;
    this.held.set(client.key, h);
    let programs = 0;
    let closed = false;
    return {
      addPrograms: (n: number) => {
        if (h.programs + n > this.maxPrograms) {
          throw new IgError('denied', `this gadget loads ${n} eBPF program${n === 1 ? '' : 's'}; ${client.display} already holds ${h.programs} on this daemon (its limit is ${this.maxPrograms})`, {
            hint: 'end another run first, or ask the node\'s operator to raise --max-programs-per-client',
          });
        }
        h.programs += n;
        programs += n;
      },
      close: () => {
        if (closed) return;
        closed = true;
        h.sessions--;
        h.programs -= programs;
        if (h.sessions === 0) this.held.delete(client.key);
      },
    };
  }
}
