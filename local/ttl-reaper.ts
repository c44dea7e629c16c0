/**
 * DynamoDB's Time to Live, for dynalite (which stores the setting nowhere and never expires
 * anything): every `intervalMs`, items whose TTL attribute holds an epoch-seconds time in the
 * past are deleted, as AWS's background process does (AWS takes up to a few days; so may this).
 * Items without the attribute, or with a non-numeric one, are never touched. The reaper signs as
 * DynamoDB itself, so its deletes reach the tables' streams as AWS's do: `REMOVE` records whose
 * `userIdentity` is the service ("DynamoDB Streams and Time to Live").
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { TableDescription } from '../lib/app-description.ts';
import { SERVICE_ACCESS_KEY_ID } from './dynamodb/endpoint.ts';

export interface TtlReaperOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Tables to reap, with their physical names. */
  readonly tables: readonly { readonly description: TableDescription; readonly physicalName: string }[];
  /** @default 60_000 */
  readonly intervalMs?: number;
  /** @default one JSON line on stderr */
  readonly log?: (entry: Record<string, unknown>) => void;
}

export interface TtlReaper {
  start(): void;
  /** Deletes every expired item now; resolves with how many were deleted per table. */
  reapNow(now?: Date): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** Creates the reaper; nothing runs until `start()`. */
export function createTtlReaper(options: TtlReaperOptions): TtlReaper {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: options.endpoint, region: options.region, credentials: { ...options.credentials, accessKeyId: SERVICE_ACCESS_KEY_ID } }),
  );
  const log = options.log ?? ((entry) => console.error(JSON.stringify({ component: 'ttl-reaper', ...entry })));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  async function reapNow(now: Date = new Date()): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const { description, physicalName } of options.tables) {
      const attribute = description.ttlAttribute;
      if (!attribute) continue;
      const keyNames = [description.partitionKey.name, ...(description.sortKey ? [description.sortKey.name] : [])];
      deleted[description.name] = 0;
      const pages = paginateScan(
        { client },
        {
          TableName: physicalName,
          FilterExpression: '#ttl < :now',
          ExpressionAttributeNames: { '#ttl': attribute },
          ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000) },
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          const key = Object.fromEntries(keyNames.map((name) => [name, item[name]]));
          // Conditional, like AWS: an item whose TTL was moved meanwhile stays.
          await client
            .send(
              new DeleteCommand({
                TableName: physicalName,
                Key: key,
                ConditionExpression: '#ttl < :now',
                ExpressionAttributeNames: { '#ttl': attribute },
                ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000) },
              }),
            )
            .then(
              () => (deleted[description.name] = (deleted[description.name] ?? 0) + 1),
              () => undefined,
            );
        }
      }
    }
    return deleted;
  }

  return {
    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        running = reapNow().catch((error: unknown) => log({ level: 'ERROR', message: 'TTL reaping failed', error: String(error) }));
      }, options.intervalMs ?? 60_000);
      timer.unref();
    },
    reapNow,
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await running;
      client.destroy();
    },
  };
}
