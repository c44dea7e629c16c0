/**
 * The notifications table's stream as Lambda hands it over: the DynamoDB stream event (zod), and
 * each record turned into the change of one notification that shared/domain/metrics.ts counts.
 * Images are in DynamoDB's attribute-value form; the stream's view type is NEW_AND_OLD_IMAGES, so
 * a record carries the item before and after the write ("Change data capture for DynamoDB
 * Streams", "DynamoDB Streams and AWS Lambda triggers": the event's `dynamodb` member).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from '../zod-mini.ts';
import type { NotificationImage } from '../domain/metrics.ts';
import { channelDeliveryStatuses, channels, notificationStatuses } from '../domain/notification.ts';
import type { ChangeRecord } from '../use-cases/count-transitions.ts';

const attributeMap = z.record(z.string(), z.record(z.string(), z.unknown()));

/** One record of Lambda's DynamoDB stream event. */
export const dynamoDbStreamRecordSchema = z.looseObject({
  eventID: z.string(),
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  eventSource: z.literal('aws:dynamodb'),
  eventSourceARN: z.string(),
  dynamodb: z.looseObject({
    /** Epoch seconds. */
    ApproximateCreationDateTime: z.number(),
    Keys: attributeMap,
    NewImage: z.optional(attributeMap),
    OldImage: z.optional(attributeMap),
    SequenceNumber: z.string().check(z.minLength(1)),
    SizeBytes: z.number(),
    // A count needs the item before and after the write: a stream of another view type is a misconfiguration.
    StreamViewType: z.literal('NEW_AND_OLD_IMAGES'),
  }),
});
export type DynamoDbStreamRecord = z.infer<typeof dynamoDbStreamRecordSchema>;

/** Lambda's DynamoDB stream event: `{ Records }`, in stream order. */
export const dynamoDbStreamEventSchema = z.looseObject({ Records: z.array(dynamoDbStreamRecordSchema) });

/** What a metrics count reads of a stored notification; anything else on the item is ignored. */
const notificationImageSchema = z.looseObject({
  tenantId: z.string().check(z.minLength(1)),
  status: z.enum(notificationStatuses),
  attempts: z.int().check(z.nonnegative()),
  deliveries: z._default(z.partialRecord(z.enum(channels), z.looseObject({ status: z.enum(channelDeliveryStatuses), at: z.string() })), {}),
});

/** The notification an image holds; undefined when the item is not one (then nothing of it is counted). */
export function notificationImage(image: Readonly<Record<string, unknown>> | undefined): NotificationImage | undefined {
  if (!image) return undefined;
  const parsed = notificationImageSchema.safeParse(unmarshall(image as Record<string, AttributeValue>));
  if (!parsed.success) return undefined;
  const { tenantId, status, attempts, deliveries } = parsed.data;
  return { tenantId, status, attempts, deliveries };
}

/** A stream record as the change it carries; the time is the table's (`ApproximateCreationDateTime`, epoch seconds). */
export function changeRecordOf(record: DynamoDbStreamRecord): ChangeRecord {
  const before = notificationImage(record.dynamodb.OldImage);
  const after = notificationImage(record.dynamodb.NewImage);
  return {
    sequenceNumber: record.dynamodb.SequenceNumber,
    at: new Date(record.dynamodb.ApproximateCreationDateTime * 1000),
    change: { ...(before ? { before } : {}), ...(after ? { after } : {}) },
  };
}
