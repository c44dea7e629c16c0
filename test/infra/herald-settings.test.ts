import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../../lib/constructs/herald-function.ts';
import { contextKeys, readHeraldSettings, SettingsError } from '../../lib/stacks/herald-settings.ts';
import { testContext, testSettings } from './synth.ts';

describe('reading settings from CDK context', () => {
  it('reads every setting from context', () => {
    expect(readHeraldSettings(new App({ context: testContext() }))).toEqual(testSettings);
  });

  it('synthesises from the defaults cdk.json ships', () => {
    const cdkJson = JSON.parse(readFileSync(path.join(repositoryRoot, 'cdk.json'), 'utf8')) as {
      app: string;
      context: Record<string, unknown>;
    };
    expect(cdkJson.app).toBe('node bin/herald.ts');
    const settings = readHeraldSettings(new App({ context: cdkJson.context }));
    expect(settings.stage).toBe('dev');
    expect(settings.schedulerLeadSeconds).toBe(60);
  });

  it('names the missing key', () => {
    const app = new App({ context: testContext({ [contextKeys.jwtIssuer]: undefined }) });
    expect(() => readHeraldSettings(app)).toThrow(SettingsError);
    expect(() => readHeraldSettings(app)).toThrow(/herald:jwtIssuer/);
  });

  it('refuses an issuer that is not https, as API Gateway would', () => {
    const app = new App({ context: testContext({ [contextKeys.jwtIssuer]: 'http://issuer.local/' }) });
    expect(() => readHeraldSettings(app)).toThrow(/https URL/);
  });

  it('accepts the lead time as the string `-c` passes', () => {
    const app = new App({ context: testContext({ [contextKeys.schedulerLeadSeconds]: '90' }) });
    expect(readHeraldSettings(app).schedulerLeadSeconds).toBe(90);
  });

  it('reads the claim names and tenancy as `-c` passes them', () => {
    const app = new App({
      context: testContext({ [contextKeys.tenantClaim]: 'https://herald.example.com/tenant', [contextKeys.roleClaim]: 'https://herald.example.com/roles', [contextKeys.singleTenant]: 'true' }),
    });
    expect(readHeraldSettings(app).claims).toEqual({ tenantClaim: 'https://herald.example.com/tenant', roleClaim: 'https://herald.example.com/roles', singleTenant: true });
  });

  it.each([
    [contextKeys.tenantClaim, 'custom tenant', /herald:tenantClaim must be a claim name/],
    [contextKeys.roleClaim, '', /herald:roleClaim is missing/],
    [contextKeys.singleTenant, 'yes', /herald:singleTenant must be true or false/],
  ])('refuses %s set to %j, naming it', (key, value, message) => {
    const app = new App({ context: testContext({ [key]: value }) });
    expect(() => readHeraldSettings(app)).toThrow(message);
  });

  it('refuses a stage that would not fit in resource names', () => {
    const app = new App({ context: testContext({ [contextKeys.stage]: 'Prod_EU' }) });
    expect(() => readHeraldSettings(app)).toThrow(/herald:stage/);
  });
});

describe('the CDK app with a setting it cannot use', () => {
  it('says the setting and what it must be in one line, not in a stack trace, and exits 1', () => {
    // Act: what cdk synth -c herald:jwtIssuer=http://auth.acme.io/ runs (the CLI passes context as CDK_CONTEXT_JSON)
    const context = { ...testContext(), [contextKeys.jwtIssuer]: 'http://auth.acme.io/' };
    const run = spawnSync(process.execPath, [path.join(repositoryRoot, 'bin/herald.ts')], {
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context) },
      encoding: 'utf8',
      timeout: 60_000,
    });

    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'Herald: CDK context herald:jwtIssuer must be an https URL, got http://auth.acme.io/',
      '(every setting, its default and its form: docs/deploying.md, "Settings (CDK context)")',
    ]);
  });
});
