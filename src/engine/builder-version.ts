/**
 * Which ig built a gadget (the image's `io.inspektor-gadget.builder.version`), checked as IG
 * checks it (pkg/operators/oci-handler): a warning when it differs from the ig that runs it, or
 * when the image does not say; nothing for a prerelease ig (developers rebuild all the time).
 */
import { ANN } from '../oci/mediatypes.js';
import { packageVersion } from '../paths.js';

const plain = (v: string) => v.trim().replace(/^v/, '');

export function builderVersionWarning(annotations: Record<string, string>, current = packageVersion()): string | undefined {
  if (/-/.test(plain(current))) return undefined;
  const built = annotations[ANN.builderVersion];
  if (!built) return 'warning: the gadget image does not say which ig built it; it could be incompatible\n';
  if (!/^\d+\.\d+\.\d+/.test(plain(built))) return undefined; // a development build's version
  if (plain(built) === plain(current)) return undefined;
  return `warning: this gadget was built with ig ${built} and is run with ig v${plain(current)}; it could be incompatible\n`;
}
