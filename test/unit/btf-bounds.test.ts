// Bounds of the layout compiler against BTF no compiler would emit (a crafted object): each is an
// IgError naming the type, never a stack overflow, a TypeError or a decoder reading past its record.
import { describe, expect, it } from 'vitest';
import type { BtfType, MapInfo } from '../../native/index.js';
import { BtfSpec } from '../../src/btf/spec.js';
import { flatten } from '../../src/btf/layout.js';
import { buildGadgetSpec } from '../../src/gadget/spec.js';
import { IgError } from '../../src/errors.js';

const u32: BtfType = { id: 1, kind: 'int', name: 'unsigned int', size: 4, intEncoding: { signed: false, char: false, bool: false, bitsOffset: 0, bits: 32 } };
const struct = (id: number, name: string, size: number, members: [string, number, number][]): BtfType => ({
  id, kind: 'struct', name, size, members: members.map(([n, type, byte]) => ({ name: n, type, bitsOffset: byte * 8, bitfieldSize: 0 })),
});

function refusal(types: BtfType[], root: number): IgError {
  try {
    flatten(new BtfSpec(types), root);
  } catch (e) {
    expect(e).toBeInstanceOf(IgError);
    return e as IgError;
  }
  throw new Error('accepted');
}

describe('BTF bounds', () => {
  it('an array whose element type is itself', () => {
    const types: BtfType[] = [u32, struct(2, 'event', 8, [['loop', 3, 0]]), { id: 3, kind: 'array', name: '', array: { type: 3, indexType: 1, nelems: 2 } }];
    expect(refusal(types, 2).message).toMatch(/BTF type array \[3\] nests arrays more than 32 deep \(or contains itself\)/);
  });

  it('a struct containing itself', () => {
    expect(refusal([u32, struct(2, 'node', 8, [['next', 2, 0]])], 2).message).toMatch(/BTF type struct node \[2\] is nested more than 16 structs deep/);
  });

  it('a typedef cycle', () => {
    const types: BtfType[] = [u32, struct(2, 'event', 4, [['x', 3, 0]]), { id: 3, kind: 'typedef', name: 'a', type: 4 }, { id: 4, kind: 'typedef', name: 'b', type: 3 }];
    expect(refusal(types, 2).message).toMatch(/^BTF type a \[3\] has a typedef\/qualifier chain longer than 64 \(a cycle\?\)/);
  });

  it('a member outside its struct, and a struct claiming 4 GiB', () => {
    expect(refusal([u32, struct(2, 'event', 8, [['pid', 1, 4096]])], 2).message).toBe('field "pid" of struct event [2] lies outside it (bytes 4096..4100 of 8)');
    expect(refusal([u32, struct(2, 'event', 0xffffffff, [['pid', 1, 0]])], 2).message).toMatch(/^record type struct event \[2\] is 4294967295 bytes/);
  });

  it('an endpoint without an address, or with a part not on a byte', () => {
    const u16: BtfType = { id: 3, kind: 'int', name: 'unsigned short', size: 2, intEncoding: { signed: false, char: false, bool: false, bitsOffset: 0, bits: 16 } };
    const noAddr = struct(2, 'gadget_l4endpoint_t', 8, [['port', 3, 0]]);
    expect(refusal([u32, noAddr, u16], 2).message).toMatch(/^endpoint "" of struct gadget_l4endpoint_t \[2\] has no address part/);
    const odd: BtfType = { ...struct(2, 'gadget_l4endpoint_t', 24, [['addr', 1, 0]]), members: [{ name: 'addr', type: 1, bitsOffset: 0, bitfieldSize: 0 }, { name: 'port', type: 3, bitsOffset: 131, bitfieldSize: 16 }] };
    expect(refusal([u32, odd, u16], 2).message).toMatch(/^endpoint "" of struct gadget_l4endpoint_t \[2\] has no address part, or parts not inside its 24 bytes/);
  });

  it('more fields than a record can have', () => {
    const many = struct(2, 'wide', 4 * 5000, Array.from({ length: 5000 }, (_, i) => [`f${i}`, 1, 4 * i] as [string, number, number]));
    expect(refusal([u32, many], 2).message).toMatch(/more than 4096 fields/);
  });

  it('a global (a param) outside its data section', () => {
    const types: BtfType[] = [
      u32,
      { id: 2, kind: 'var', name: 'targ_pid', type: 1, linkage: 1 },
      { id: 3, kind: 'datasec', name: '.rodata', size: 16, vars: [{ type: 2, offset: 64, size: 4 }] },
    ];
    const rodata: MapInfo = { name: '.rodata', type: 2, keySize: 4, valueSize: 16, maxEntries: 1, btfKeyTypeId: 0, btfValueTypeId: 3, internal: true };
    expect(() => buildGadgetSpec({ maps: [rodata], programs: [], btf: types }, null)).toThrow('global targ_pid [2] lies outside section .rodata (bytes 64..68 of 16)');
  });

  it('a global whose place in its section is not the size of its type', () => {
    const types: BtfType[] = [
      u32,
      { id: 2, kind: 'var', name: 'gadget_filter_by_mntns', type: 1, linkage: 1 },
      { id: 3, kind: 'datasec', name: '.rodata', size: 16, vars: [{ type: 2, offset: 0, size: 0 }] },
    ];
    const rodata: MapInfo = { name: '.rodata', type: 2, keySize: 4, valueSize: 16, maxEntries: 1, btfKeyTypeId: 0, btfValueTypeId: 3, internal: true };
    expect(() => buildGadgetSpec({ maps: [rodata], programs: [], btf: types }, null)).toThrow('global gadget_filter_by_mntns [2] takes 0 bytes in section .rodata, but its type has 4');
  });

  it('a param in a section the object has no data map for', () => {
    const types: BtfType[] = [
      u32,
      { id: 2, kind: 'var', name: 'limit', type: 1, linkage: 1 },
      { id: 3, kind: 'var', name: 'gadget_param_limit', type: 1, linkage: 1 },
      { id: 4, kind: 'datasec', name: '.rodata.odd', size: 4, vars: [{ type: 2, offset: 0, size: 4 }] },
    ];
    const metrics: MapInfo = { name: 'counter_x', type: 1, keySize: 4, valueSize: 4, maxEntries: 1, btfKeyTypeId: 1, btfValueTypeId: 1, internal: false };
    expect(() => buildGadgetSpec({ maps: [metrics], programs: [], btf: types }, null)).toThrow('param "limit" is in section .rodata.odd, which the object has no data map for');
  });

  it('a map value type larger than the map holds', () => {
    const types: BtfType[] = [u32, struct(2, 'counts', 16, [['a', 1, 0], ['b', 1, 12]])];
    const map: MapInfo = { name: 'print_counts', type: 1, keySize: 4, valueSize: 8, maxEntries: 16, btfKeyTypeId: 1, btfValueTypeId: 2, internal: false };
    expect(() => buildGadgetSpec({ maps: [map], programs: [], btf: types }, null)).toThrow(
      'the value type struct counts [2] of datasource counts is 16 bytes, but map "print_counts" holds 8-byte values',
    );
  });
});
