/**
 * How SES tells Herald of bounces and complaints: a configuration set that every e-mail names,
 * whose event destination publishes `BOUNCE` and `COMPLAINT` events to the account's default
 * EventBridge bus, and a rule that puts this configuration set's events on the queue the
 * `ses-feedback` function consumes ("Set up an Amazon EventBridge event destination", SES
 * Developer Guide). The set's name is CloudFormation's, so no fixed name blocks a redeploy.
 */
import { Stack } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { ConfigurationSet, EmailSendingEvent, EventDestination } from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import type { HeraldQueue } from './herald-queues.ts';

export interface HeraldEmailFeedbackProps {
  /** The queue the feedback events go to (the description's queue with `receivesEmailFeedback`). */
  readonly queue: HeraldQueue;
}

/** The SES event detail-types of a bounce and a complaint on EventBridge. */
export const emailFeedbackDetailTypes = ['Email Bounced', 'Email Complaint Received'] as const;

export class HeraldEmailFeedback extends Construct {
  /** The configuration set every e-mail names. */
  readonly configurationSet: ConfigurationSet;

  constructor(scope: Construct, id: string, props: HeraldEmailFeedbackProps) {
    super(scope, id);
    // SES's account-level suppression list (if turned on) applies too; Herald's own is per tenant and recipient.
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet');
    this.configurationSet.addEventDestination('ToEventBridge', {
      destination: EventDestination.eventBus(EventBus.fromEventBusName(this, 'DefaultBus', 'default')),
      events: [EmailSendingEvent.BOUNCE, EmailSendingEvent.COMPLAINT],
    });
    new Rule(this, 'ToQueue', {
      description: 'Bounces and complaints of Herald e-mail, for the ses-feedback function',
      eventPattern: {
        source: ['aws.ses'],
        detailType: [...emailFeedbackDetailTypes],
        // Only this configuration set's: another application's e-mail in the account is not Herald's business.
        detail: { mail: { tags: { 'ses:configuration-set': [this.configurationSet.configurationSetName] } } },
      },
      targets: [new SqsQueue(props.queue.queue)],
    });
  }

  /** The ARN of the configuration set, which IAM checks on every send that names it. */
  get configurationSetArn(): string {
    return Stack.of(this).formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSet.configurationSetName });
  }
}
