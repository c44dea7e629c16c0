import type { App, Environment } from 'aws-cdk-lib';
import { HeraldDataStack } from './herald-data-stack.ts';
import { HeraldServiceStack } from './herald-service-stack.ts';
import { readHeraldSettings } from './herald-settings.ts';
import type { HeraldSettings } from './herald-settings.ts';

/** The stacks of one Herald stage. */
export interface HeraldStacks {
  readonly settings: HeraldSettings;
  readonly data: HeraldDataStack;
  readonly service: HeraldServiceStack;
}

/**
 * Adds Herald's two stacks for the stage named in context to `app`. bin/herald.ts and the infra
 * tests both call this, so the tests check the very app that `cdk deploy` deploys.
 */
export function addHeraldStacks(app: App, env?: Environment): HeraldStacks {
  const settings = readHeraldSettings(app);
  const stackPrefix = `herald-${settings.stage}`;
  // Stack tags, which CloudFormation propagates to every resource (cdk.json sets explicitStackTags).
  const tags = { app: 'herald', stage: settings.stage };
  const data = new HeraldDataStack(app, 'HeraldData', {
    env,
    tags,
    stackName: `${stackPrefix}-data`,
    description: `Herald ${settings.stage}: tables, queues, schedule group (stateful)`,
    stage: settings.stage,
    // Termination protection outside dev: this stack holds every notification.
    terminationProtection: settings.stage !== 'dev',
  });
  const service = new HeraldServiceStack(app, 'HeraldService', {
    env,
    tags,
    stackName: `${stackPrefix}-service`,
    description: `Herald ${settings.stage}: functions and APIs (stateless)`,
    settings,
    data,
  });
  return { settings, data, service };
}
