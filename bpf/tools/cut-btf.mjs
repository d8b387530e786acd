// Cut the raw BTF blob out of a kernel image: node cut-btf.mjs IMAGE OUT.
// The image may be gzip-compressed (Debian's arm64 vmlinuz) or an EFI zboot image wrapping a
// gzip/zstd payload; the BTF blob inside starts with its header: magic 0xeb9f (little-endian),
// version 1, flags 0, hdr_len 24, then type_off, type_len, str_off, str_len (u32 each). The blob is
// hdr_len + max(type_off + type_len, str_off + str_len) bytes. The first header whose sections fit
// and whose string section starts with a NUL (as every BTF string table does) is taken.
import { readFileSync, writeFileSync } from 'node:fs';
import zlib from 'node:zlib';

const [, , input, output] = process.argv;
if (!input || !output) {
  console.error('usage: node cut-btf.mjs IMAGE OUT');
  process.exit(2);
}
let data = readFileSync(input);
// gzip anywhere in the first MiB (a zboot image has a small EFI stub before its payload)
const gz = data.subarray(0, 1 << 20).indexOf(Buffer.from([0x1f, 0x8b, 0x08]));
if (gz >= 0) data = zlib.gunzipSync(data.subarray(gz), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
const magic = Buffer.from([0x9f, 0xeb, 0x01, 0x00, 0x18, 0x00, 0x00, 0x00]);
for (let at = data.indexOf(magic); at >= 0; at = data.indexOf(magic, at + 1)) {
  const [typeOff, typeLen, strOff, strLen] = [8, 12, 16, 20].map((o) => data.readUInt32LE(at + o));
  const size = 24 + Math.max(typeOff + typeLen, strOff + strLen);
  if (typeLen < 1024 || strLen < 1024 || at + size > data.length) continue;
  if (data[at + 24 + strOff] !== 0) continue;
  writeFileSync(output, data.subarray(at, at + size));
  console.error(`BTF blob: ${size} bytes at offset ${at} of the ${gz >= 0 ? 'decompressed ' : ''}image`);
  process.exit(0);
}
console.error(`no BTF blob found in ${input}`);
process.exit(1);
