/**
 * The format check that `npm test` runs (`prettier --check .` in `npm run lint`), through
 * Prettier's API with the repository's own configuration: a source file as committed
 * passes, the same file misformatted fails, and the source tree is not ignored.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { check, getFileInfo, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');
const FILE = resolve(ROOT, 'src/stream/claim.ts');

async function passes(text: string): Promise<boolean> {
  const options = await resolveConfig(FILE, { editorconfig: true });
  return check(text, { ...options, filepath: FILE });
}

describe('format check', () => {
  it("uses the repository's configuration (printWidth 100, single quotes)", async () => {
    expect(await resolveConfig(FILE)).toMatchObject({ printWidth: 100, singleQuote: true });
    const info = await getFileInfo(FILE, { ignorePath: resolve(ROOT, '.prettierignore') });
    expect(info.ignored).toBe(false);
  });

  it('passes a committed source file and fails it misformatted', async () => {
    const good = readFileSync(FILE, 'utf8');
    expect(await passes(good)).toBe(true);
    // Three ways a hand edit goes wrong: indentation, quotes, a line past 100 columns.
    const dedented = good.replace(/\n {2}(\S)/, '\n$1');
    expect(dedented).not.toBe(good);
    expect(await passes(dedented)).toBe(false);
    const quoted = good.replace(/'([^'\n]*)'/, '"$1"');
    expect(quoted).not.toBe(good);
    expect(await passes(quoted)).toBe(false);
    const long = `${good}\nexport const LONG = [${Array.from({ length: 30 }, (_, i) => i).join(', ')}];\n`;
    expect(await passes(long)).toBe(false);
  });
});
