/**
 * What `npm install` says before and after (scripts/install-notice.mjs, npm's preinstall and
 * postinstall): with `--omit=dev` (npm_config_omit) it neither promises the CDK nor suggests the
 * tests, which are not installed then.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '../../../scripts/install-notice.mjs');

/** The line the script writes on stderr for `phase`, with `omit` as npm passes `--omit` on. */
function said(phase: 'before' | 'after', omit = ''): string {
  const result = spawnSync(process.execPath, [script, phase], { env: { ...process.env, npm_config_omit: omit }, encoding: 'utf8' });
  return result.stderr;
}

describe('install notice', () => {
  it('names the CDK before a full install and suggests the tests after it', () => {
    expect(said('before')).toContain('the CDK');
    expect(said('after')).toContain('npm test');
  });

  it('with --omit=dev, promises neither the CDK nor the tests', () => {
    for (const phase of ['before', 'after'] as const) {
      const line = said(phase, 'dev');
      expect(line).toContain('without the development tools');
      expect(line).not.toContain('CDK');
      expect(line).not.toContain('npm test');
    }
  });
});
