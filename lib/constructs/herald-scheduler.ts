import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Effect, Grant, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IGrantable, IRole } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { HeraldQueue } from './herald-queues.ts';

/** Properties of {@link HeraldScheduler}. */
export interface HeraldSchedulerProps {
  /** Name of the schedule group that holds one schedule per notification. */
  readonly groupName: string;
  /** The queue every schedule sends its notification to. */
  readonly targetQueue: HeraldQueue;
  /** Where Scheduler puts a firing it could not deliver to the target queue. */
  readonly deadLetterQueue: HeraldQueue;
  /**
   * The queue broadcast schedules send their `start` to (the fan-out queue), and where Scheduler
   * puts those it could not deliver.
   * @default no broadcast schedules: the role may not send anywhere else
   */
  readonly broadcasts?: { readonly targetQueue: HeraldQueue; readonly deadLetterQueue: HeraldQueue };
  /**
   * What CloudFormation does with the group when it leaves the stack. Deleting a group deletes
   * every pending schedule in it, so the default keeps it (except when the stack's first deploy rolls back).
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

const schedulerService = 'scheduler.amazonaws.com';

/** The actions a function needs to put, move and cancel one-shot schedules. */
export const scheduleManagementActions: readonly string[] = [
  'scheduler:CreateSchedule',
  'scheduler:DeleteSchedule',
  'scheduler:GetSchedule',
  'scheduler:UpdateSchedule',
];

/**
 * The EventBridge Scheduler side of Herald: the schedule group and the execution role the
 * schedules run as. The role may do one thing only: send a message to the target queue (or to
 * the scheduler dead-letter queue).
 */
export class HeraldScheduler extends Construct {
  /** The schedule group's name, as functions pass it to CreateSchedule. */
  readonly groupName: string;
  /** The schedule group's ARN. */
  readonly groupArn: string;
  /** ARN pattern of every schedule in the group (schedules live at `schedule/<group>/<name>`). */
  readonly schedulesArn: string;
  /** The role every Herald schedule runs as. */
  readonly role: IRole;
  /** The queue schedules send to. */
  readonly targetQueue: HeraldQueue;
  /** The queue Scheduler dead-letters to. */
  readonly deadLetterQueue: HeraldQueue;
  /** The queues of broadcast schedules, when there are any. */
  readonly broadcasts?: { readonly targetQueue: HeraldQueue; readonly deadLetterQueue: HeraldQueue };

  constructor(scope: Construct, id: string, props: HeraldSchedulerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const group = new ScheduleGroup(this, 'Group', {
      scheduleGroupName: props.groupName,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.groupName = group.scheduleGroupName;
    this.groupArn = group.scheduleGroupArn;
    this.schedulesArn = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${props.groupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.targetQueue = props.targetQueue;
    this.deadLetterQueue = props.deadLetterQueue;
    this.broadcasts = props.broadcasts;
    const targets = [props.targetQueue, props.deadLetterQueue];
    if (props.broadcasts) targets.push(props.broadcasts.targetQueue, props.broadcasts.deadLetterQueue);

    this.role = new Role(this, 'ExecutionRole', {
      description: `Runs the schedules of group ${props.groupName}: may only send to the queues schedules target and their dead-letter queues`,
      // Confused-deputy guard: only schedules of this account's Herald group may assume it.
      assumedBy: new ServicePrincipal(schedulerService, {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.groupArn },
        },
      }),
      inlinePolicies: {
        SendToDeliveryQueue: new PolicyDocument({
          statements: [
            // Not grantSendMessages(): that adds GetQueueAttributes/GetQueueUrl, which Scheduler never calls.
            new PolicyStatement({
              effect: Effect.ALLOW,
              actions: ['sqs:SendMessage'],
              resources: targets.map((target) => target.queue.queueArn),
            }),
          ],
        }),
      },
    });
  }

  /**
   * Lets `grantee` create, read, update and delete schedules in this group, and hand them this
   * group's execution role (and no other role).
   */
  grantManageSchedules(grantee: IGrantable): Grant {
    const schedules = Grant.addToPrincipal({
      grantee,
      actions: [...scheduleManagementActions],
      resourceArns: [this.schedulesArn],
    });
    const passRole = Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': schedulerService } },
    });
    return schedules.combine(passRole);
  }
}
