// The current task read with plain loads (gadget/task_btf.h: comm, uid, gid; gadget/common.h's
// gadget_process_populate(); gadget/pidns.h's level-0 shortcut) gives what the kernel's own helpers
// and the CO-RE walk give: test/gadgets/task_reads puts both in one event per getppid(2), for a
// process whose comm, uid and gid were changed from the usual (a long comm and then a short one, so
// bytes of the first would show if the second were not padded; uid 65534, gid 65533), on the host
// and as the first process of a new pid namespace. --comm filters in the kernel through the same loads.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jsonLines } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith, runChild } from '../helpers/run-with.js';

const store = tempStore();
beforeAll(() => buildGadget('test/gadgets/task_reads', 'task_reads', store.env), 120_000);
afterAll(() => store.cleanup());

const COMM = `igtr${randomBytes(3).toString('hex')}`; // 10 characters, unique to this run
const script = `import os
for name in ("igtaskreads-long", ${JSON.stringify(COMM)}):
    with open("/proc/self/comm", "w") as f:
        f.write(name)
os.getppid()
print(os.getpid(), os.stat("/proc/self/ns/pid").st_ino)`;
const asNobody = ['setpriv', '--reuid=65534', '--regid=65533', '--clear-groups', '--', '/usr/bin/python3', '-c', script];

type Event = Record<string, unknown> & { proc: { comm: string; pid: number; creds: { uid: number; gid: number }; parent: { comm: string; pid: number } } };

async function traced(argv: string[]) {
  const r = await runWith(['run', 'task_reads', '-o', 'json', '--comm', COMM, '-t', '4'], store.env, () => runChild(argv[0]!, argv.slice(1)));
  expect(r.triggered.code, r.triggered.stderr).toBe(0);
  const [pid, pidns] = r.triggered.stdout.trim().split(' ').map(Number);
  const events = jsonLines(r.stdout).filter((e) => !('lost' in e)) as Event[];
  expect(events, r.stderr).toHaveLength(1);
  return { e: events[0]!, pid: pid!, pidns: pidns!, childPid: r.triggered.pid };
}

function sameAsHelpers(e: Event) {
  expect({ comm: e.comm, uid: e.uid, gid: e.gid }).toEqual({ comm: COMM, uid: 65534, gid: 65533 });
  expect({ comm: e.helper_comm, uid: e.helper_uid, gid: e.helper_gid }).toEqual({ comm: COMM, uid: 65534, gid: 65533 });
  expect({ comm: e.proc.comm, uid: e.proc.creds.uid, gid: e.proc.creds.gid }).toEqual({ comm: COMM, uid: 65534, gid: 65533 });
}

describe('the current task read with plain loads', () => {
  it('on the host: comm, uid, gid, parent and the pid namespace as the helpers read them', async () => {
    const { e, pid, pidns, childPid } = await traced(asNobody);
    sameAsHelpers(e);
    expect(pid).toBe(childPid); // setpriv execs python: the process the test spawned
    expect(e.proc.pid).toBe(pid);
    expect({ ns_pid: e.ns_pid, slow: e.slow_ns_pid, ns_tid: e.ns_tid, pidns_id: e.pidns_id }).toEqual({ ns_pid: pid, slow: pid, ns_tid: pid, pidns_id: pidns });
    expect(e.proc.parent).toMatchObject({ pid: process.pid, comm: readFileSync('/proc/self/comm', 'utf8').trim() });
  }, 60_000);

  it('in a new pid namespace: the pid it sees itself (1), through the helper path', async () => {
    const { e, pid, pidns } = await traced(['unshare', '--pid', '--fork', ...asNobody]);
    sameAsHelpers(e);
    expect(pid).toBe(1);
    expect({ ns_pid: e.ns_pid, slow: e.slow_ns_pid, ns_tid: e.ns_tid, pidns_id: e.pidns_id }).toEqual({ ns_pid: 1, slow: 1, ns_tid: 1, pidns_id: pidns });
    expect(e.proc.pid).not.toBe(1); // the host's pid
    expect(e.proc.parent.comm).toBe('unshare');
  }, 60_000);
});
