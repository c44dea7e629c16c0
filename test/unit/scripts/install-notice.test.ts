/**
 * What `npm install` says before and after (scripts/install-notice.mjs, npm's preinstall and
 * postinstall): with `--omit=dev` (npm_config_omit) it neither promises the CDK nor suggests the
 * tests, which are not installed then.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installNotice } from '../../../scripts/install-notice.mjs';

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

describe('install notice before the install scripts', () => {
  it('says what is in place, not that a minute of downloading starts: npm runs it once every package is there', () => {
    // Act
    const line = installNotice('before');

    // Assess
    expect(line).toContain('are in place');
    expect(line).not.toMatch(/installing|about a minute/);
  });
});

describe('install notice on a Node older than 24', () => {
  it('says after the install that the scripts would run on that Node, and how to get Node 24', () => {
    // Act
    const line = installNotice('after', { nodeVersion: '20.20.2' });

    // Assess
    expect(line).toContain('would run on Node 20.20.2, and Herald needs Node 24');
    expect(line).toContain('Install Node 24 and put it first on your PATH');
    expect(line).not.toContain('Next: npm start');
  });

  it('says nothing of it on Node 24, whatever is omitted', () => {
    // Act + Assess
    expect(installNotice('after', { nodeVersion: '24.21.0' })).toContain('Next: npm start');
    expect(installNotice('after', { nodeVersion: '24.21.0', omit: 'dev' })).toContain('without the development tools');
  });

  it('says it with the very Node that runs npm scripts: the one of this run', () => {
    // Act
    const line = said('after');

    // Assess: the tests run on Node 24, so the ordinary notice
    expect(line).toContain('Herald: installed. Next: npm start');
  });
});
