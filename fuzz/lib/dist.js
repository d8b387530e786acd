// The fuzz targets run the built library (dist/, `npm run build:ts`), the code `ig` runs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = (p) => import(path.join(ROOT, 'dist', p));
