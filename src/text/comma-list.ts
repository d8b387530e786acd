/**
 * Split a flag value on commas, honouring `\,` as a literal comma (other
 * backslashes are kept, so regexes in -F survive). Shared by -F and the
 * container selection flags, which promise the same escaping.
 */
export function splitCommaList(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && s[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}
