// ESM entry of the native addon; the typed surface is index.d.ts next to this file.
// Build with `make -C native` (npm run build:native).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const addon = require('./build/ig_native.node');

export const {
  BpfObject,
  RecordConsumer,
  mapLookup,
  mapUpdate,
  mapDelete,
  mapNextKey,
  mapDump,
  numPossibleCpus,
  closeFd,
  libbpfVersion,
} = addon;
