/**
 * The delivery engine's hold reaches exactly the functions that deliver; the providers' send
 * budgets, when the deployment sets them, exactly the functions that send through SES or SNS SMS:
 * those that deliver, and the API (its verification codes). Without one, those functions read
 * SES's own quota, which their e-mail grant allows.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { functions } from '../../lib/app-description.ts';
import { addHeraldStacks } from '../../lib/stacks/herald-app.ts';
import { contextKeys } from '../../lib/stacks/herald-settings.ts';
import { configVariables } from '../../shared/config.ts';
import { testContext, testEnv, testSettings } from './synth.ts';
import { actionsOf, environmentOf, statementsOfFunction } from './template-queries.ts';

const physical = (name: string): string => `herald-${testSettings.stage}-${name}`;

function serviceWith(context: Record<string, unknown>): Template {
  const app = new App({ context: testContext(context) });
  return Template.fromStack(addHeraldStacks(app, testEnv).service);
}

describe('the delivery settings', () => {
  it('give the delivering functions the hold, the senders the SES budget the context sets, and no other function either', () => {
    // Prepare
    const context = { [contextKeys.sesPerSecond]: 14, [contextKeys.sesTenantPerSecond]: '5' };

    // Act
    const service = serviceWith(context);

    // Assess
    const holders = functions.filter((fn) => fn.access.settings?.includes('delivery')).map((fn) => fn.name);
    const budgeted = functions.filter((fn) => fn.access.settings?.includes('sendBudgets')).map((fn) => fn.name);
    expect(holders.sort()).toEqual(['broadcast-deliver', 'deliver']);
    expect(budgeted.sort()).toEqual(['api', 'broadcast-deliver', 'deliver']);
    for (const fn of functions) {
      const environment = environmentOf(service, physical(fn.name));
      if (holders.includes(fn.name)) expect(environment, fn.name).toMatchObject({ [configVariables.deliveryHoldMs]: String(testSettings.delivery.holdMs) });
      else expect(Object.keys(environment), fn.name).not.toContain(configVariables.deliveryHoldMs);
      if (budgeted.includes(fn.name)) expect(environment, fn.name).toMatchObject({ [configVariables.sesPerSecond]: '14', [configVariables.sesTenantPerSecond]: '5' });
      else expect(Object.keys(environment), fn.name).not.toContain(configVariables.sesPerSecond);
    }
  });

  it('sets no SES budget without one in the context, and lets the e-mail senders read the account quota', () => {
    // Act
    const service = serviceWith({});

    // Assess
    for (const fn of functions.filter((f) => f.access.sendsEmail)) {
      expect(Object.keys(environmentOf(service, physical(fn.name)))).not.toContain(configVariables.sesPerSecond);
      expect(actionsOf(statementsOfFunction(service, physical(fn.name)))).toContain('ses:GetSendQuota');
    }
  });

  it('gives the functions that send SMS the SMS budget the context sets (cdk.json: 20 a second), and no other function', () => {
    // Act
    const service = serviceWith({ [contextKeys.smsPerSecond]: 7, [contextKeys.smsTenantPerSecond]: '2' });

    // Assess
    for (const fn of functions) {
      const environment = environmentOf(service, physical(fn.name));
      if (fn.access.settings?.includes('sendBudgets')) {
        expect(environment, fn.name).toMatchObject({ [configVariables.smsPerSecond]: '7', [configVariables.smsTenantPerSecond]: '2' });
      } else {
        expect(Object.keys(environment), fn.name).not.toContain(configVariables.smsPerSecond);
      }
    }
    expect(() => serviceWith({ [contextKeys.smsPerSecond]: 'lots' })).toThrow(/herald:smsPerSecond/);
  });

  it('refuses a platform application that is not an SNS application ARN of its platform, naming the key', () => {
    expect(() => serviceWith({ [contextKeys.snsPlatformApplicationArnFcm]: 'arn:aws:sns:eu-west-1:111122223333:app/APNS/x' })).toThrow(/herald:snsPlatformApplicationArnFcm/);
  });

  it('refuses a budget that is not a positive number, naming the key', () => {
    // Act + Assess
    expect(() => serviceWith({ [contextKeys.sesPerSecond]: 'fast' })).toThrow(/herald:sesPerSecond/);
  });
});
