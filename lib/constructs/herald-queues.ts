import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueDescription, QueueName } from '../app-description.ts';
import { acknowledgeFinding } from './nag-acknowledgements.ts';

/** A queue together with the description it was built from (its env vars, its DLQ). */
export interface HeraldQueue {
  readonly description: QueueDescription;
  readonly queue: IQueue;
}

/** Properties of {@link HeraldQueues}. */
export interface HeraldQueuesProps {
  /** The queue descriptions, normally `queues` from lib/app-description.ts. */
  readonly queues: readonly QueueDescription[];
  /**
   * Prefix of every physical queue name (`<prefix>-<name>`).
   * @default 'herald'
   */
  readonly namePrefix?: string;
  /**
   * What CloudFormation does with a queue when it leaves the stack (messages waiting in it go with it).
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Herald's SQS queues, one per description: SSE-SQS, TLS only, dead-letter queues as described. */
export class HeraldQueues extends Construct {
  private readonly byName = new Map<QueueName, HeraldQueue>();
  private readonly descriptions: ReadonlyMap<QueueName, QueueDescription>;
  private readonly namePrefix: string;
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: HeraldQueuesProps) {
    super(scope, id);
    this.namePrefix = props.namePrefix ?? 'herald';
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    this.descriptions = new Map(props.queues.map((q) => [q.name, q]));
    for (const description of props.queues) this.build(description, []);
  }

  /** The queue of that name; throws when the description does not hold it. */
  get(name: QueueName): HeraldQueue {
    const found = this.byName.get(name);
    if (!found) throw new Error(`HeraldQueues holds no queue named ${name}`);
    return found;
  }

  /** Every queue, in description order. */
  all(): readonly HeraldQueue[] {
    return [...this.descriptions.keys()].map((name) => this.get(name));
  }

  // A queue's dead-letter queue must exist before it, whatever order the description lists them in.
  private build(description: QueueDescription, visiting: readonly QueueName[]): HeraldQueue {
    const built = this.byName.get(description.name);
    if (built) return built;
    if (visiting.includes(description.name)) {
      throw new Error(`Dead-letter cycle among queues: ${[...visiting, description.name].join(' -> ')}`);
    }
    let deadLetterQueue: { queue: IQueue; maxReceiveCount: number } | undefined;
    if (description.deadLetter) {
      const dlqDescription = this.descriptions.get(description.deadLetter.queue);
      if (!dlqDescription) {
        throw new Error(`Queue ${description.name} names an undescribed dead-letter queue ${description.deadLetter.queue}`);
      }
      const dlq = this.build(dlqDescription, [...visiting, description.name]);
      deadLetterQueue = { queue: dlq.queue, maxReceiveCount: description.deadLetter.maxReceiveCount };
    }
    const queue = new Queue(this, description.name, {
      queueName: `${this.namePrefix}-${description.name}`,
      visibilityTimeout: Duration.seconds(description.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(description.retentionDays),
      // SQS-managed keys: EventBridge Scheduler and Lambda need no KMS grants to use the queue.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue,
      removalPolicy: this.removalPolicy,
    });
    const fedByQueue = [...this.descriptions.values()].some((other) => other.deadLetter?.queue === description.name);
    if (description.deadLetters && !fedByQueue) {
      acknowledgeFinding(
        queue,
        'AwsSolutions-SQS3',
        "A dead-letter queue itself (deadLetters in the description), fed by what no redrive policy shows: EventBridge Scheduler's DeadLetterConfig, or a stream mapping's OnFailure destination",
      );
    }
    const result = { description, queue };
    this.byName.set(description.name, result);
    return result;
  }
}
