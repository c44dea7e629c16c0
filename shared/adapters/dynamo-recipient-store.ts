/**
 * The recipient directory in DynamoDB: one item per recipient keyed by tenant and id, listed in
 * id order through the `byTenant` index, and one membership item per (group, recipient) in the
 * memberships table (groupKey = tenant#group, recipientId), the index a group is paged through.
 *
 * A recipient and its memberships change together: each write is one transaction that puts the
 * recipient on the condition that it is still the version the writer read, and adds or removes
 * the memberships of the groups that changed. A write of a recipient whose groups did not change
 * is a single conditional put. (A transaction holds at most 100 actions: a write that changes more
 * than 99 memberships at once applies the rest in further transactions; those are idempotent
 * puts and deletes, so repeating the write completes it.)
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { suppressionOfEmail } from '../domain/recipient.ts';
import type { Recipient } from '../domain/recipient.ts';
import type { RecipientListQuery, RecipientPage, RecipientStore } from '../ports.ts';
import { batchGet } from './dynamo-batch.ts';
import { maxTransactItems, transactWrite } from './dynamo-transact.ts';
import type { TransactItems } from './dynamo-transact.ts';
import { keyPart } from './dynamo-keys.ts';

/** The key of a recipient item: the tenant is part of every key. */
export function recipientKey(tenantId: string, id: string): { pk: string } {
  return { pk: `${keyPart(tenantId)}#${keyPart(id)}` };
}

/** The key of a membership item. */
export function membershipKey(tenantId: string, group: string, recipientId: string): { groupKey: string; recipientId: string } {
  return { groupKey: `${keyPart(tenantId)}#${keyPart(group)}`, recipientId };
}

/** How many times `put` reads again after losing a race to another writer. */
const putAttempts = 10;

/** The recipient a recipients-table item holds. */
export function recipientFromItem(item: Record<string, unknown>): Recipient {
  const { pk: _pk, suppressedTenant: _suppressedTenant, ...recipient } = item;
  return recipient as unknown as Recipient;
}

/**
 * The item attributes besides the recipient's own: `suppressedTenant`, the partition of the sparse
 * `emailSuppressed` index, only while the current address is suppressed.
 */
function indexAttributes(recipient: Recipient): { suppressedTenant?: string } {
  return suppressionOfEmail(recipient) ? { suppressedTenant: recipient.tenantId } : {};
}

/** The condition that the stored recipient is still `previous`. */
function unchangedSince(previous: Recipient | undefined): {
  ConditionExpression: string;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  if (!previous) return { ConditionExpression: 'attribute_not_exists(pk)' };
  if (previous.version === undefined) return { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(version)' };
  return { ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': previous.version } };
}

export class DynamoRecipientStore implements RecipientStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly membershipsTable: () => string;

  /** `membershipsTable` is read on first use only: functions that only read recipients need no access to it. */
  constructor(db: DynamoDBDocumentClient, tableName: string, membershipsTable: () => string) {
    this.db = db;
    this.tableName = tableName;
    this.membershipsTable = membershipsTable;
  }

  async put(recipient: Recipient): Promise<void> {
    for (let attempt = 0; attempt < putAttempts; attempt++) {
      const previous = await this.get(recipient.tenantId, recipient.id);
      if (await this.save(recipient, previous)) return;
    }
    throw new Error(`Recipient ${recipient.id} kept changing under ${putAttempts} attempts to write it`);
  }

  async get(tenantId: string, id: string): Promise<Recipient | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: recipientKey(tenantId, id), ConsistentRead: true }),
    );
    return result.Item ? recipientFromItem(result.Item) : undefined;
  }

  async getMany(tenantId: string, ids: readonly string[]): Promise<Recipient[]> {
    const items = await batchGet(this.db, this.tableName, ids.map((id) => recipientKey(tenantId, id)));
    return items.map(recipientFromItem);
  }

  async save(next: Recipient, previous: Recipient | undefined): Promise<boolean> {
    const { version: _version, typePreferences, ...fields } = next;
    const put = {
      TableName: this.tableName,
      Item: {
        ...recipientKey(next.tenantId, next.id),
        ...fields,
        // The types are the tenant's own words: as a Map, one named `constructor` is marshalled as
        // any other (util-dynamodb reads a plain object's `constructor` to tell what it is).
        ...(typePreferences ? { typePreferences: new Map(Object.entries(typePreferences)) } : {}),
        ...indexAttributes(next),
        version: (previous?.version ?? 0) + 1,
      },
      ...unchangedSince(previous),
    };
    const before = new Set(previous?.groups ?? []);
    const after = new Set(next.groups);
    const changes: TransactItems = [
      ...[...before]
        .filter((group) => !after.has(group))
        .map((group) => ({ Delete: { TableName: this.membershipsTable(), Key: membershipKey(next.tenantId, group, next.id) } })),
      ...[...after]
        .filter((group) => !before.has(group))
        .map((group) => ({
          Put: { TableName: this.membershipsTable(), Item: { ...membershipKey(next.tenantId, group, next.id), tenantId: next.tenantId, group } },
        })),
    ];
    if (changes.length === 0) {
      try {
        await this.db.send(new PutCommand(put));
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    }
    return this.writeWithMemberships({ Put: put }, changes);
  }

  async remove(previous: Recipient): Promise<boolean> {
    const { ConditionExpression, ExpressionAttributeValues } = unchangedSince(previous);
    const remove = {
      Delete: {
        TableName: this.tableName,
        Key: recipientKey(previous.tenantId, previous.id),
        ConditionExpression,
        ...(ExpressionAttributeValues ? { ExpressionAttributeValues } : {}),
      },
    };
    const memberships: TransactItems = previous.groups.map((group) => ({
      Delete: { TableName: this.membershipsTable(), Key: membershipKey(previous.tenantId, group, previous.id) },
    }));
    return this.writeWithMemberships(remove, memberships);
  }

  async list(tenantId: string, query: RecipientListQuery): Promise<RecipientPage> {
    if (query.emailSuppressed) return this.listTenant(tenantId, query, { index: 'emailSuppressed', partition: 'suppressedTenant' });
    return query.group === undefined ? this.listTenant(tenantId, query) : this.listGroup(tenantId, query.group, query);
  }

  /** The recipient write first, on its condition, with as many membership changes as fit. */
  private async writeWithMemberships(recipientWrite: TransactItems[number], changes: TransactItems): Promise<boolean> {
    const first = await transactWrite(this.db, [recipientWrite, ...changes.slice(0, maxTransactItems - 1)]);
    if (!first.ok) return false;
    for (let start = maxTransactItems - 1; start < changes.length; start += maxTransactItems) {
      const rest = await transactWrite(this.db, changes.slice(start, start + maxTransactItems));
      if (!rest.ok) throw new Error('A membership change without a condition was refused');
    }
    return true;
  }

  /** A page of the tenant's directory through `byTenant`, or through the sparse index of suppressed addresses. */
  private async listTenant(
    tenantId: string,
    query: RecipientListQuery,
    index: { readonly index: string; readonly partition: string } = { index: 'byTenant', partition: 'tenantId' },
  ): Promise<RecipientPage> {
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.index,
        KeyConditionExpression: '#partition = :tenantId',
        ExpressionAttributeNames: { '#partition': index.partition },
        ExpressionAttributeValues: { ':tenantId': tenantId },
        Limit: query.limit + 1,
        ExclusiveStartKey: query.after ? { [index.partition]: tenantId, id: query.after, ...recipientKey(tenantId, query.after) } : undefined,
      }),
    );
    const found = result.Items ?? [];
    const page = found.slice(0, query.limit).map(recipientFromItem);
    return { recipients: page, ...nextAfter(page.map((r) => r.id), found.length > query.limit, result.LastEvaluatedKey) };
  }

  private async listGroup(tenantId: string, group: string, query: RecipientListQuery): Promise<RecipientPage> {
    const { groupKey } = membershipKey(tenantId, group, '');
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.membershipsTable(),
        KeyConditionExpression: 'groupKey = :groupKey',
        ExpressionAttributeValues: { ':groupKey': groupKey },
        ProjectionExpression: 'recipientId',
        ConsistentRead: true,
        Limit: query.limit + 1,
        ExclusiveStartKey: query.after ? membershipKey(tenantId, group, query.after) : undefined,
      }),
    );
    const found = result.Items ?? [];
    const ids = found.slice(0, query.limit).map((item) => String(item.recipientId));
    const byId = new Map((await this.getMany(tenantId, ids)).map((r) => [r.id, r]));
    // A member removed since the membership was read is simply left out.
    const recipients = ids.flatMap((id) => byId.get(id) ?? []);
    return { recipients, ...nextAfter(ids, found.length > query.limit, result.LastEvaluatedKey) };
  }
}

function nextAfter(ids: readonly string[], moreFound: boolean, lastEvaluatedKey: unknown): { after?: string } {
  const last = ids[ids.length - 1];
  return last !== undefined && (moreFound || lastEvaluatedKey !== undefined) ? { after: last } : {};
}
