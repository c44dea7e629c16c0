import { describe, expect, it } from 'vitest';
import {
  broadcastConfig,
  broadcastDeliveryQueueConfig,
  broadcastSchedulerConfig,
  ConfigError,
  fanoutQueueConfig,
  tableNames,
} from '../../../shared/config.ts';

function errorOf(read: () => unknown): unknown {
  try {
    read();
  } catch (error) {
    return error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('broadcast configuration', () => {
  it('defaults to pages of 1,000, a watch every minute and the retention of sent notifications', () => {
    // Act / Assess
    expect(broadcastConfig({})).toEqual({ pageSize: 1_000, watchSeconds: 60, retentionDays: 90 });
  });

  it('takes its tuning from the environment', () => {
    // Act
    const config = broadcastConfig({ HERALD_BROADCAST_PAGE_SIZE: '250', HERALD_BROADCAST_WATCH_SECONDS: '5', HERALD_SENT_RETENTION_DAYS: '7' });

    // Assess
    expect(config).toEqual({ pageSize: 250, watchSeconds: 5, retentionDays: 7 });
  });

  it('refuses a watch longer than an SQS delay can carry, and a blank page size, naming them', () => {
    // Act
    const watch = errorOf(() => broadcastConfig({ HERALD_BROADCAST_WATCH_SECONDS: '901' }));
    const page = errorOf(() => broadcastConfig({ HERALD_BROADCAST_PAGE_SIZE: ' ' }));

    // Assess
    expect(watch).toBeInstanceOf(ConfigError);
    expect((watch as Error).message).toContain('HERALD_BROADCAST_WATCH_SECONDS');
    expect((page as Error).message).toContain('HERALD_BROADCAST_PAGE_SIZE');
  });

  it('schedules broadcasts onto the fan-out queue, dead-lettering to its DLQ', () => {
    // Prepare
    const env = {
      HERALD_SCHEDULE_GROUP: 'herald',
      HERALD_SCHEDULER_ROLE_ARN: 'arn:aws:iam::111122223333:role/scheduler',
      HERALD_QUEUE_FANOUT_ARN: 'arn:aws:sqs:eu-west-1:111122223333:fanout',
      HERALD_QUEUE_FANOUT_DLQ_ARN: 'arn:aws:sqs:eu-west-1:111122223333:fanout-dlq',
    };

    // Act
    const config = broadcastSchedulerConfig(env);

    // Assess
    expect(config).toEqual({
      groupName: 'herald',
      roleArn: env.HERALD_SCHEDULER_ROLE_ARN,
      targetArn: env.HERALD_QUEUE_FANOUT_ARN,
      deadLetterArn: env.HERALD_QUEUE_FANOUT_DLQ_ARN,
      leadSeconds: 60,
      firesPerSecond: 1000,
    });
  });

  it('names the missing variable of a queue or table', () => {
    // Act / Assess
    expect((errorOf(() => broadcastSchedulerConfig({})) as Error).message).toContain('HERALD_QUEUE_FANOUT_DLQ_ARN');
    expect((errorOf(() => fanoutQueueConfig({ HERALD_QUEUE_FANOUT_URL: 'https://q' })) as Error).message).toContain('HERALD_QUEUE_FANOUT_ARN');
    expect((errorOf(() => broadcastDeliveryQueueConfig({})) as Error).message).toContain('HERALD_QUEUE_BROADCAST_DELIVERY_URL');
    expect((errorOf(() => tableNames({}).broadcastRecipients) as Error).message).toContain('HERALD_TABLE_BROADCAST_RECIPIENTS');
  });
});
