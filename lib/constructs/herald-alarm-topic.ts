import { RemovalPolicy } from 'aws-cdk-lib';
import type { AlarmBase, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Properties of {@link HeraldAlarmTopic}. */
export interface HeraldAlarmTopicProps {
  /** Physical name of the topic. */
  readonly topicName: string;
  /**
   * An address subscribed to the topic (SNS mails it a confirmation link first).
   * @default no subscription: subscribe a pager, a chat hook or an address yourself
   */
  readonly email?: string;
  /**
   * What CloudFormation does with the topic and its key when they leave the stack.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The one SNS topic every Herald alarm notifies, in alarm and back to OK. Encrypted with a
 * customer managed KMS key (rotated yearly) whose policy lets CloudWatch use it: CloudWatch cannot
 * publish to a topic encrypted with the AWS managed `alias/aws/sns` key, whose policy it cannot be
 * added to. TLS only (`enforceSSL`).
 */
export class HeraldAlarmTopic extends Construct {
  /** The topic. */
  readonly topic: Topic;
  /** The key the topic's messages are encrypted with. */
  readonly key: Key;
  /** The alarm action that publishes to the topic. */
  readonly action: IAlarmAction;

  constructor(scope: Construct, id: string, props: HeraldAlarmTopicProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    this.key = new Key(this, 'Key', {
      description: `Encrypts the messages of the ${props.topicName} topic`,
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch publishes the alarm's state change, encrypted with this key, to the topic.
    this.key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', {
      topicName: props.topicName,
      displayName: 'Herald alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.applyRemovalPolicy(removalPolicy);
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    this.action = new SnsAction(this.topic);
  }

  /** Makes `alarm` notify the topic when it fires and when it recovers. */
  notifyOn(alarm: AlarmBase): void {
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
  }
}
