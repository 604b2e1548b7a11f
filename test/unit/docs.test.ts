import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('docs stay true', () => {
  it('docs/testing.md shows exactly the example test our suite runs', () => {
    const source = read('test/integration/example-user.test.ts');
    const start = source.indexOf('\n', source.indexOf('// --- docs/testing.md')) + 1;
    const example = source.slice(start, source.indexOf('// --- end of the example ---'));
    expect(read('docs/testing.md')).toContain(example.trimEnd());
  });

  it('the README gives the two commands and the test command CI runs', () => {
    const readme = read('README.md');
    expect(readme).toContain('npm run up');
    expect(readme).toContain('npm test');
    expect(read('.ci/run')).toMatch(/^npm test$/m);
  });
});
