/**
 * Seeds a tenant's recipient directory straight into the local DynamoDB, in the directory's own
 * item layout (a recipient item and one membership item per group, as DynamoRecipientStore
 * writes them), with BatchWriteItem: thousands of recipients in seconds, for end-to-end tests and
 * benchmarks that need a big audience. Not for production data: the API is the way in there.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchPut } from '../shared/adapters/dynamo-batch.ts';
import { membershipKey, recipientKey } from '../shared/adapters/dynamo-recipient-store.ts';

export interface SeededRecipient {
  readonly id: string;
  readonly groups?: readonly string[];
  readonly email?: string;
}

export interface SeedDirectoryOptions {
  /** The local DynamoDB endpoint (the plain one, not the functions' faultable one). */
  readonly endpoint: string;
  readonly region: string;
  /** Physical table names. */
  readonly tables: { readonly recipients: string; readonly memberships: string };
  readonly tenantId: string;
  readonly recipients: readonly SeededRecipient[];
  /** BatchWriteItem calls in flight at once. @default 8 */
  readonly concurrency?: number;
}

/** Writes the recipients and their memberships; existing ones with the same ids are replaced. */
export async function seedDirectory(options: SeedDirectoryOptions): Promise<void> {
  const client = new DynamoDBClient({ endpoint: options.endpoint, region: options.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const db = DynamoDBDocumentClient.from(client);
  const now = new Date().toISOString();
  const { tenantId } = options;
  const recipients = options.recipients.map((r) => ({
    ...recipientKey(tenantId, r.id),
    tenantId,
    id: r.id,
    groups: [...(r.groups ?? [])],
    ...(r.email ? { email: r.email } : {}),
    createdAt: now,
    updatedAt: now,
    version: 1,
  }));
  const memberships = options.recipients.flatMap((r) =>
    (r.groups ?? []).map((group) => ({ ...membershipKey(tenantId, group, r.id), tenantId, group })),
  );
  const lanes = options.concurrency ?? 8;
  const write = async (table: string, items: readonly Record<string, unknown>[]): Promise<void> => {
    const laneSize = Math.max(25, Math.ceil(items.length / lanes / 25) * 25);
    const slices: Record<string, unknown>[][] = [];
    for (let start = 0; start < items.length; start += laneSize) slices.push(items.slice(start, start + laneSize));
    await Promise.all(slices.map((slice) => batchPut(db, table, slice)));
  };
  try {
    await write(options.tables.recipients, recipients);
    await write(options.tables.memberships, memberships);
  } finally {
    client.destroy();
  }
}
