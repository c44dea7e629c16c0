import type { App, Environment } from 'aws-cdk-lib';
import { HeraldConsoleStack } from './herald-console-stack.ts';
import { HeraldDataStack } from './herald-data-stack.ts';
import { HeraldServiceStack } from './herald-service-stack.ts';
import { isProductionStage, readHeraldSettings } from './herald-settings.ts';
import type { HeraldSettings } from './herald-settings.ts';

/** The stacks of one Herald stage. */
export interface HeraldStacks {
  readonly settings: HeraldSettings;
  readonly data: HeraldDataStack;
  readonly service: HeraldServiceStack;
  /** The console: a static site on S3 and CloudFront that calls the service's APIs. */
  readonly console: HeraldConsoleStack;
}

/**
 * Adds Herald's three stacks for the stage named in context to `app`. bin/herald.ts and the infra
 * tests both call this, so the tests check the very app that `cdk deploy` deploys.
 */
export function addHeraldStacks(app: App, env?: Environment): HeraldStacks {
  const settings = readHeraldSettings(app);
  const stackPrefix = `herald-${settings.stage}`;
  // Stack tags, which CloudFormation propagates to every resource (cdk.json sets explicitStackTags).
  const tags = { app: 'herald', stage: settings.stage };
  const production = isProductionStage(settings);
  const data = new HeraldDataStack(app, 'HeraldData', {
    env,
    tags,
    stackName: `${stackPrefix}-data`,
    description: `Herald ${settings.stage}: tables, queues, schedule group, alarm topic (stateful)`,
    stage: settings.stage,
    production,
    alarmEmail: settings.operations.alarmEmail,
    // A production stack holds every notification: it cannot be deleted until protection is lifted.
    // Any other stage can be destroyed and deployed again (docs/deploying.md).
    terminationProtection: production,
  });
  const service = new HeraldServiceStack(app, 'HeraldService', {
    env,
    tags,
    stackName: `${stackPrefix}-service`,
    description: `Herald ${settings.stage}: functions and APIs (stateless)`,
    settings,
    data,
  });
  const console = new HeraldConsoleStack(app, 'HeraldConsole', {
    env,
    tags,
    stackName: `${stackPrefix}-console`,
    description: `Herald ${settings.stage}: the console, a static site on S3 and CloudFront`,
    service,
    jwtIssuer: settings.jwtIssuer,
    claims: settings.claims,
  });
  return { settings, data, service, console };
}
