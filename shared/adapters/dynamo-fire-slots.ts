/**
 * The Scheduler's fire seconds in DynamoDB, in the rate-limits table beside the send budgets: one
 * item per second (`scheduler#all#<epochSecond>`) whose `used` a claim raises with a conditional
 * `ADD`, refused once it reaches the per-second quota. A claim walks back from the second it
 * wants to earlier ones until one has room; the seconds it found full it remembers, so a burst
 * does not ask again for room it knows is gone. Items expire a day after their second.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FireSlots } from '../ports.ts';

const slotTtlSeconds = 24 * 60 * 60;
/** How many full seconds a process remembers. */
const knownFullLimit = 100_000;

export class DynamoFireSlots implements FireSlots {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: () => string;
  private readonly perSecond: number;
  private readonly full = new Set<number>();

  /** `perSecond`: the schedules the Scheduler fires per second (its invocation quota). */
  constructor(db: DynamoDBDocumentClient, tableName: () => string, perSecond: number) {
    this.db = db;
    this.tableName = tableName;
    this.perSecond = perSecond;
  }

  async claim(latest: number, earliest: number): Promise<number | undefined> {
    for (let second = latest; second >= earliest; second--) {
      if (this.full.has(second)) continue;
      if (await this.take(second)) return second;
      if (this.full.size >= knownFullLimit) this.full.clear();
      this.full.add(second);
    }
    return undefined;
  }

  /** Raises the second's count unless it is full; false when it was. */
  private async take(second: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName(),
          Key: { pk: `scheduler#all#${second}` },
          UpdateExpression: 'ADD used :one SET expiresAt = if_not_exists(expiresAt, :expires)',
          ConditionExpression: 'attribute_not_exists(used) OR used < :cap',
          ExpressionAttributeValues: { ':one': 1, ':cap': this.perSecond, ':expires': second + slotTtlSeconds },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
