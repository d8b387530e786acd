/**
 * gadget.yaml's text → its document. Apart from metadata.ts so that a run whose image was seen
 * before (metadata-cache.ts) does not load the YAML parser at all.
 */
import YAML from 'yaml';
import { IgError } from '../errors.js';
import type { GadgetMetadata } from './metadata.js';

export function parseMetadata(bytes: Buffer | string | null): GadgetMetadata | null {
  if (bytes === null) return null;
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  if (text.trim() === '' || text.trim() === '{}') return null;
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new IgError('invalid-image', `gadget.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`, {
      hint: 'fix the gadget.yaml and rebuild the image',
    });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new IgError('invalid-image', 'gadget.yaml must be a mapping (name:, description:, datasources:, params:)');
  }
  return doc as GadgetMetadata;
}
