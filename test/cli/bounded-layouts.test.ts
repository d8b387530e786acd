// A gadget's BTF decides how large a record is and how many values each holds; a crafted or
// careless one must be refused before anything is allocated, with the type named. Before the
// bounds, `char data[50000000]` aborted V8 (out of memory after 48 s) and a 4 GiB struct lost
// every event silently (exit 0).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileBpf } from '../helpers/bpf-compile.js';
import { writeImageTar } from '../helpers/gadgets.js';
import { withStructSize } from '../helpers/btf-patch.js';
import { runIg } from '../helpers/ig.js';

const source = (member: string) => String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <gadget/buffer.h>
#include <gadget/macros.h>
struct event {
	__u32 pid;
	${member};
};
GADGET_TRACER_MAP(events, 4096);
GADGET_TRACER(big, events, event);
SEC("tracepoint/syscalls/sys_enter_getcwd")
int big_tracer(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

let tmp: string;
let S: string[];
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-bounds-'));
  S = ['--oci-store', path.join(tmp, 'store')];
  const cases: [string, string][] = [
    ['array50m', 'char data[50000000]'],
    ['struct4g', 'char data[16]'], // then claimed to be 4 GiB (clang cannot emit one)
    ['manyelems', '__u32 vals[100000]'],
  ];
  for (const [name, member] of cases) {
    let { bytes } = await compileBpf(source(member), { name });
    if (name === 'struct4g') bytes = withStructSize(bytes, 'event', 0xfffffff0);
    const tar = path.join(tmp, `${name}.tar`);
    await writeImageTar(tar, `ghcr.io/inspektor-gadget/gadget/${name}:latest`, bytes);
    const r = await runIg(['image', 'import', tar, ...S]);
    expect(r.code, r.stderr).toBe(0);
  }
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function refused(image: string, pattern: RegExp): Promise<void> {
  const t0 = Date.now();
  const r = await runIg(['run', image, '--pull', 'never', '-o', 'json', '-t', '1', ...S], { timeoutMs: 30_000 });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |bug in ig/);
  expect(Date.now() - t0).toBeLessThan(10_000);
}

describe('record layouts from an image are bounded', () => {
  it('a 50M-element char array: refused naming the struct and its size', async () => {
    await refused('array50m', /^error: record type struct event \[\d+\] is 50000004 bytes; ig decodes records of at most 4194304 bytes/m);
  });

  it('a 4 GiB struct: refused, not run with every event lost', async () => {
    await refused('struct4g', /^error: record type struct event \[\d+\] is 4294967280 bytes/m);
  });

  it('an array of 100000 numbers: refused naming the field', async () => {
    await refused('manyelems', /^error: field "vals" of struct event \[\d+\] is an array of 100000 elements; ig decodes at most 65536/m);
  });
});
