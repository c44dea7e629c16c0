/** The notifications stream as Lambda hands it over, read into the changes the metrics count. */
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { changeRecordOf, dynamoDbStreamEventSchema } from '../../../../shared/adapters/notification-stream.ts';
import type { DynamoDbStreamRecord } from '../../../../shared/adapters/notification-stream.ts';
import { aNotification } from '../../fakes/fixtures.ts';

const streamArn = 'arn:aws:dynamodb:eu-west-1:111122223333:table/herald-test-notifications/stream/2030-01-01T00:00:00.000';

/** A record as Lambda delivers it, with the images in attribute-value form. */
function aRecord(images: { OldImage?: Record<string, unknown>; NewImage?: Record<string, unknown> }, eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'MODIFY'): DynamoDbStreamRecord {
  const marshalled = (item: Record<string, unknown>): Record<string, Record<string, unknown>> => marshall(item, { removeUndefinedValues: true }) as unknown as Record<string, Record<string, unknown>>;
  return {
    eventID: 'c81e728d9d4c2f636f067f89cc14862c',
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: 1893499800,
      Keys: { pk: { S: 'acme#ntf_1' } },
      ...(images.NewImage ? { NewImage: marshalled(images.NewImage) } : {}),
      ...(images.OldImage ? { OldImage: marshalled(images.OldImage) } : {}),
      SequenceNumber: '100000000000000000001',
      SizeBytes: 120,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

describe('changeRecordOf', () => {
  it('reads the item before and after a commit, with its position and the table\'s time', () => {
    // Prepare
    const before = { ...aNotification({ status: 'sending', attempts: 1, deliveries: { email: { status: 'sending', at: '2030-01-01T12:10:00.000Z' } } }), pk: 'acme#ntf_1', claimToken: 't' };
    const after = { ...aNotification({ status: 'sent', attempts: 1, deliveries: { email: { status: 'sent', at: '2030-01-01T12:10:00.000Z', detail: 'id 1' } } }), pk: 'acme#ntf_1', expiresAt: 1900000000 };

    // Act
    const change = changeRecordOf(aRecord({ OldImage: before, NewImage: after }));

    // Assess
    expect(change).toEqual({
      sequenceNumber: '100000000000000000001',
      at: new Date(1893499800 * 1000),
      change: {
        before: { tenantId: 'acme', status: 'sending', attempts: 1, deliveries: { email: { status: 'sending', at: '2030-01-01T12:10:00.000Z' } } },
        after: { tenantId: 'acme', status: 'sent', attempts: 1, deliveries: { email: { status: 'sent', at: '2030-01-01T12:10:00.000Z', detail: 'id 1' } } },
      },
    });
  });

  it('reads a creation as a change with nothing before, and a deletion with nothing after', () => {
    // Prepare
    const item = { ...aNotification(), pk: 'acme#ntf_1' };

    // Act
    const inserted = changeRecordOf(aRecord({ NewImage: item }, 'INSERT'));
    const removed = changeRecordOf(aRecord({ OldImage: item }, 'REMOVE'));

    // Assess
    expect(inserted.change).toEqual({ after: { tenantId: 'acme', status: 'pending', attempts: 0, deliveries: {} } });
    expect(removed.change).toEqual({ before: { tenantId: 'acme', status: 'pending', attempts: 0, deliveries: {} } });
  });

  it('reads an item that is no notification as no change, so that it counts nothing', () => {
    // Act
    const change = changeRecordOf(aRecord({ NewImage: { pk: 'probe', expiresAt: 1 } }, 'INSERT'));

    // Assess
    expect(change.change).toEqual({});
  });
});

describe('dynamoDbStreamEventSchema', () => {
  it('refuses a stream that does not carry both images: a count needs the item before and after', () => {
    // Prepare
    const record = aRecord({ NewImage: { pk: 'x' } });
    const keysOnly = { ...record, dynamodb: { ...record.dynamodb, StreamViewType: 'KEYS_ONLY' } };

    // Act
    const parsed = dynamoDbStreamEventSchema.safeParse({ Records: [keysOnly] });

    // Assess
    expect(parsed.success).toBe(false);
    expect(dynamoDbStreamEventSchema.safeParse({ Records: [record] }).success).toBe(true);
  });
});
