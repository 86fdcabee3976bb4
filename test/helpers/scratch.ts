import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh directory under the system's temporary one (`bazaar-<prefix>-XXXXXX`), removed when this process exits:
 * a full test run otherwise leaves hundreds of data directories (mails, media, logs) behind.
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `bazaar-${prefix}-`));
  made.push(dir);
  return dir;
}
