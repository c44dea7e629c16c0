/**
 * Synthesises Herald the way `cdk synth` does (same context and feature flags as cdk.json), with
 * test settings and bundling skipped so that infra tests stay fast and need no esbuild run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { repositoryRoot } from '../../lib/constructs/herald-function.ts';
import { addHeraldStacks } from '../../lib/stacks/herald-app.ts';
import type { HeraldStacks } from '../../lib/stacks/herald-app.ts';
import { contextKeys } from '../../lib/stacks/herald-settings.ts';
import type { HeraldSettings } from '../../lib/stacks/herald-settings.ts';

/** Settings that differ from cdk.json's, so a test can tell they came from context. */
export const testSettings: HeraldSettings = {
  stage: 'test',
  jwtIssuer: 'https://issuer.herald-tests.dev/',
  jwtAudience: 'herald-tests-audience',
  jwksUrl: 'https://issuer.herald-tests.dev/keys.json',
  emailFrom: 'sender@herald-tests.dev',
  schedulerLeadSeconds: 45,
  schedulerFiresPerSecond: 2500,
  retry: { baseSeconds: 30, factor: 3, maxRetries: 5, jitter: 0.25, capSeconds: 3600 },
  sweeps: { stuckAfterSeconds: 120, sweepMaxItems: 500, cancelledRetentionDays: 7, cleanupMaxItems: 2000 },
  // No SES budget: the functions read the account's own (GetSendQuota), as with cdk.json.
  delivery: { holdMs: 1500, ses: {}, sms: { perSecond: 15 } },
  selfSend: { userPerHour: 60, tenantPerHour: 1000 },
  // Cognito's claim names, so a test can tell they came from context.
  claims: { tenantClaim: 'custom:tenant', roleClaim: 'cognito:groups', singleTenant: false },
  push: { fcmApplicationArn: 'arn:aws:sns:eu-west-1:111122223333:app/GCM/herald-tests', apnsApplicationArn: 'arn:aws:sns:eu-west-1:111122223333:app/APNS/herald-tests' },
  api: { rateLimitPerSecond: 150, burstLimit: 300, corsOrigins: ['https://app.herald-tests.dev', 'http://localhost:5173'], tenantRequestsPerSecond: 25 },
  // The test stage is not a production one: a stage named `live` is, in these tests.
  operations: { productionStages: ['live'], alarmEmail: 'oncall@herald-tests.dev' },
};

/** The account and region test stacks are pinned to. */
export const testEnv = { account: '111122223333', region: 'eu-west-1' } as const;

/** cdk.json's context (feature flags included), overridden by the test settings. */
export function testContext(overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(repositoryRoot, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return {
    ...cdkJson.context,
    [contextKeys.stage]: testSettings.stage,
    [contextKeys.jwtIssuer]: testSettings.jwtIssuer,
    [contextKeys.jwtAudience]: testSettings.jwtAudience,
    [contextKeys.jwksUrl]: testSettings.jwksUrl,
    [contextKeys.emailFrom]: testSettings.emailFrom,
    [contextKeys.schedulerLeadSeconds]: testSettings.schedulerLeadSeconds,
    [contextKeys.schedulerFiresPerSecond]: testSettings.schedulerFiresPerSecond,
    [contextKeys.retryBaseSeconds]: testSettings.retry.baseSeconds,
    [contextKeys.retryFactor]: testSettings.retry.factor,
    [contextKeys.retryMaxRetries]: testSettings.retry.maxRetries,
    [contextKeys.retryJitter]: testSettings.retry.jitter,
    [contextKeys.retryCapSeconds]: testSettings.retry.capSeconds,
    [contextKeys.stuckAfterSeconds]: testSettings.sweeps.stuckAfterSeconds,
    [contextKeys.sweepMaxItems]: testSettings.sweeps.sweepMaxItems,
    [contextKeys.cancelledRetentionDays]: testSettings.sweeps.cancelledRetentionDays,
    [contextKeys.cleanupMaxItems]: testSettings.sweeps.cleanupMaxItems,
    [contextKeys.deliveryHoldMs]: testSettings.delivery.holdMs,
    [contextKeys.smsPerSecond]: testSettings.delivery.sms.perSecond,
    [contextKeys.snsPlatformApplicationArnFcm]: testSettings.push.fcmApplicationArn,
    [contextKeys.snsPlatformApplicationArnApns]: testSettings.push.apnsApplicationArn,
    [contextKeys.apiRateLimit]: testSettings.api.rateLimitPerSecond,
    [contextKeys.apiBurstLimit]: testSettings.api.burstLimit,
    [contextKeys.corsOrigins]: testSettings.api.corsOrigins,
    [contextKeys.tenantRequestsPerSecond]: testSettings.api.tenantRequestsPerSecond,
    [contextKeys.productionStages]: testSettings.operations.productionStages,
    [contextKeys.alarmEmail]: testSettings.operations.alarmEmail,
    [contextKeys.tenantClaim]: testSettings.claims.tenantClaim,
    [contextKeys.roleClaim]: testSettings.claims.roleClaim,
    [contextKeys.singleTenant]: testSettings.claims.singleTenant,
    // No stack is bundled: entries must exist, but esbuild never runs.
    'aws:cdk:bundling-stacks': [],
    ...overrides,
  };
}

/** A synthesised Herald app: its stacks and their templates. */
export interface SynthesisedHerald {
  readonly stacks: HeraldStacks;
  readonly data: Template;
  readonly service: Template;
  readonly console: Template;
}

/** Builds and synthesises the app exactly as bin/herald.ts does, with the test context (and `overrides` of it). */
export function synthesiseHerald(overrides: Readonly<Record<string, unknown>> = {}): SynthesisedHerald {
  const app = new App({ context: testContext(overrides) });
  const stacks = addHeraldStacks(app, testEnv);
  return {
    stacks,
    data: Template.fromStack(stacks.data),
    service: Template.fromStack(stacks.service),
    console: Template.fromStack(stacks.console),
  };
}
