/**
 * DynamoDB's `TransactWriteItems`, in front of dynalite (which implements every other operation
 * Herald uses but not transactions). Every request to the local DynamoDB goes through this front:
 * transactions are carried out here, everything else is forwarded to dynalite unchanged.
 *
 * What Herald depends on, and how it is kept:
 * - **All or nothing.** Each action runs as the matching conditional single-item write on
 *   dynalite (`ReturnValues: ALL_OLD`); when any condition fails, the actions already applied are
 *   undone from their old images and the call answers `TransactionCanceledException` with one
 *   `CancellationReasons` entry per action (`ConditionalCheckFailed` or `None`), in AWS's wire
 *   format, so the SDK raises the same exception class with the same reasons.
 * - **Isolation from other writes.** Every write (PutItem, UpdateItem, DeleteItem,
 *   BatchWriteItem, TransactWriteItems) takes a lock on the items it touches, so no write lands
 *   on an item between a transaction's condition and its effect, or between an effect and its
 *   undoing. Locks are registered on all keys at once, so two transactions cannot deadlock.
 * - **AWS's request rules.** At most 100 actions, exactly one operation per action, and never two
 *   actions on one item (`ValidationException`, as AWS answers).
 *
 * Where it differs from AWS: reads are not locked, so a GetItem or Query that runs while a
 * transaction is being applied may see part of it (AWS isolates GetItem; its Query and Scan are
 * read-committed); `ClientRequestToken` is accepted but not remembered. Herald does not depend on
 * either. Sources: the TransactWriteItems API reference and "Amazon DynamoDB Transactions: How it
 * works" (isolation levels, cancellation reasons).
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, describeError } from './http-gateway.ts';

export interface DynamoTransactionsOptions {
  /** dynalite's base URL, e.g. `http://127.0.0.1:8000`. */
  readonly target: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Where forwarding failures are reported. @default stderr */
  readonly log?: (line: string) => void;
}

export interface RunningDynamoTransactions {
  /** The DynamoDB endpoint to use instead of dynalite's. */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** AWS's limit on actions per transaction. */
export const maxTransactionActions = 100;

const targetPrefix = 'DynamoDB_20120810.';
const writeOperations = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

type AttributeMap = Record<string, unknown>;
type Json = Record<string, unknown>;

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

interface CancellationReason {
  readonly Code: 'None' | 'ConditionalCheckFailed';
  readonly Message?: string;
  readonly Item?: AttributeMap;
}

/** One write of a transaction, with the key of the item it touches. */
interface Action {
  readonly kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  readonly table: string;
  readonly key: AttributeMap;
  readonly params: Json;
}

/** A client error answered in the awsJson 1.0 shape the SDK parses. */
class DynamoClientError extends Error {
  readonly type: string;
  readonly extra: Json;
  constructor(type: string, message: string, extra: Json = {}) {
    super(message);
    this.name = 'DynamoClientError';
    this.type = type;
    this.extra = extra;
  }
}

function validation(message: string): DynamoClientError {
  return new DynamoClientError('com.amazon.coral.validate#ValidationException', message);
}

/**
 * Per-item write locks. `acquire` registers on every key synchronously, so waiters queue on
 * all their keys in one global order and can never wait on each other in a cycle.
 */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Resolves once every key is free, with the function that frees them again. */
  async acquire(keys: readonly string[]): Promise<() => void> {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const waits = [...new Set(keys)].map((key) => {
      const previous = this.tails.get(key) ?? Promise.resolve();
      const tail = previous.then(() => held);
      this.tails.set(key, tail);
      void tail.then(() => {
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
      return previous;
    });
    await Promise.all(waits);
    return release;
  }

  /** How many keys are held or awaited (for tests). */
  get size(): number {
    return this.tails.size;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function lockKey(table: string, key: AttributeMap): string {
  const sorted = Object.keys(key)
    .sort()
    .map((name) => [name, key[name]]);
  return `${table}\u0000${JSON.stringify(sorted)}`;
}

/** Starts the front on its own port; `stop()` closes it (dynalite is left running). */
export async function startDynamoTransactions(options: DynamoTransactionsOptions): Promise<RunningDynamoTransactions> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true });
  const locks = new KeyLocks();
  const keySchemas = new Map<string, readonly string[]>();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  function forward(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          host: target.hostname,
          port: target.port,
          method,
          path,
          agent,
          headers: { ...headers, host: target.host, 'content-length': String(body.length) },
        },
        (res) => {
          readBody(res).then((data) => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: data }), reject);
        },
      );
      outgoing.once('error', reject);
      outgoing.end(body);
    });
  }

  /** Calls one dynalite operation with the caller's credentials headers. */
  async function call(operation: string, payload: Json, auth: IncomingHttpHeaders): Promise<{ status: number; json: Json }> {
    const headers: IncomingHttpHeaders = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `${targetPrefix}${operation}`,
      ...(auth.authorization ? { authorization: auth.authorization } : {}),
      ...(auth['x-amz-date'] ? { 'x-amz-date': auth['x-amz-date'] } : {}),
    };
    const reply = await forward('POST', '/', headers, Buffer.from(JSON.stringify(payload)));
    const text = reply.body.toString('utf8');
    return { status: reply.status, json: text ? (JSON.parse(text) as Json) : {} };
  }

  async function mustCall(operation: string, payload: Json, auth: IncomingHttpHeaders): Promise<Json> {
    const { status, json } = await call(operation, payload, auth);
    if (status !== 200) throw new DynamoClientError(String(json.__type ?? 'InternalFailure'), String(json.message ?? json.Message ?? operation));
    return json;
  }

  /** The key attribute names of a table; `undefined` when it does not exist (dynalite will say so). */
  async function keyNamesOf(table: string, auth: IncomingHttpHeaders): Promise<readonly string[] | undefined> {
    const cached = keySchemas.get(table);
    if (cached) return cached;
    const { status, json } = await call('DescribeTable', { TableName: table }, auth);
    if (status !== 200) return undefined;
    const schema = (json.Table as { KeySchema?: { AttributeName: string }[] } | undefined)?.KeySchema ?? [];
    const names = schema.map((k) => k.AttributeName);
    keySchemas.set(table, names);
    return names;
  }

  async function keyOfItem(table: string, item: AttributeMap, auth: IncomingHttpHeaders): Promise<AttributeMap | undefined> {
    const names = await keyNamesOf(table, auth);
    return names ? Object.fromEntries(names.map((name) => [name, item[name]])) : undefined;
  }

  /** The lock keys a plain write touches. */
  async function keysOfWrite(operation: string, payload: Json, auth: IncomingHttpHeaders): Promise<string[]> {
    if (operation === 'BatchWriteItem') {
      const keys: string[] = [];
      for (const [table, requests] of Object.entries((payload.RequestItems ?? {}) as Record<string, Json[]>)) {
        for (const req of Array.isArray(requests) ? requests : []) {
          const put = req.PutRequest as { Item?: AttributeMap } | undefined;
          const del = req.DeleteRequest as { Key?: AttributeMap } | undefined;
          const key = put?.Item ? await keyOfItem(table, put.Item, auth) : del?.Key;
          if (key) keys.push(lockKey(table, key));
        }
      }
      return keys;
    }
    const table = String(payload.TableName ?? '');
    const key = operation === 'PutItem' ? await keyOfItem(table, (payload.Item ?? {}) as AttributeMap, auth) : (payload.Key as AttributeMap | undefined);
    return key ? [lockKey(table, key)] : [];
  }

  async function parseActions(payload: Json, auth: IncomingHttpHeaders): Promise<Action[]> {
    const items = payload.TransactItems;
    if (!Array.isArray(items) || items.length === 0) {
      throw validation('1 validation error detected: Value null at \'transactItems\' failed to satisfy constraint: Member must not be null');
    }
    if (items.length > maxTransactionActions) {
      throw validation(
        `1 validation error detected: Value '${JSON.stringify(items.length)}' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${maxTransactionActions}`,
      );
    }
    const actions: Action[] = [];
    for (const entry of items as Json[]) {
      const kinds = (['Put', 'Update', 'Delete', 'ConditionCheck'] as const).filter((kind) => entry[kind] !== undefined);
      if (kinds.length !== 1) throw validation('TransactItems can only contain one of Check, Put, Update or Delete');
      const kind = kinds[0] as Action['kind'];
      const params = entry[kind] as Json;
      const table = String(params.TableName ?? '');
      const key = kind === 'Put' ? await keyOfItem(table, (params.Item ?? {}) as AttributeMap, auth) : (params.Key as AttributeMap | undefined);
      if (!key) throw new DynamoClientError('com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', 'Requested resource not found');
      actions.push({ kind, table, key, params });
    }
    const seen = new Set<string>();
    for (const action of actions) {
      const id = lockKey(action.table, action.key);
      if (seen.has(id)) throw validation('Transaction request cannot include multiple operations on one item');
      seen.add(id);
    }
    return actions;
  }

  /** Applies one action as a conditional single-item write; the old image, or a failed condition. */
  async function apply(action: Action, auth: IncomingHttpHeaders): Promise<{ ok: true; old?: AttributeMap } | { ok: false }> {
    const { ReturnValuesOnConditionCheckFailure: _onFailure, ...params } = action.params;
    let operation: string;
    let payload: Json;
    if (action.kind === 'ConditionCheck') {
      // Rewrites the item as it is (or its bare key) under the condition; undone like any write.
      const current = await mustCall('GetItem', { TableName: action.table, Key: action.key, ConsistentRead: true }, auth);
      const { Key: _key, ...condition } = params;
      operation = 'PutItem';
      payload = { ...condition, Item: (current.Item as AttributeMap | undefined) ?? action.key };
    } else {
      operation = `${action.kind}Item`;
      payload = params;
    }
    const { status, json } = await call(operation, { ...payload, ReturnValues: 'ALL_OLD' }, auth);
    if (status === 200) return { ok: true, ...(json.Attributes ? { old: json.Attributes as AttributeMap } : {}) };
    if (String(json.__type ?? '').endsWith('#ConditionalCheckFailedException')) return { ok: false };
    throw new DynamoClientError(String(json.__type ?? 'InternalFailure'), String(json.message ?? json.Message ?? 'failed'));
  }

  async function undo(action: Action, old: AttributeMap | undefined, auth: IncomingHttpHeaders): Promise<void> {
    if (old) await mustCall('PutItem', { TableName: action.table, Item: old }, auth);
    else await mustCall('DeleteItem', { TableName: action.table, Key: action.key }, auth);
  }

  async function transactWrite(payload: Json, auth: IncomingHttpHeaders): Promise<Json> {
    const actions = await parseActions(payload, auth);
    const release = await locks.acquire(actions.map((a) => lockKey(a.table, a.key)));
    const applied: { action: Action; old?: AttributeMap }[] = [];
    try {
      const reasons: CancellationReason[] = [];
      try {
        for (const action of actions) {
          const result = await apply(action, auth);
          if (result.ok) {
            applied.push({ action, ...(result.old ? { old: result.old } : {}) });
            reasons.push({ Code: 'None' });
            continue;
          }
          let item: AttributeMap | undefined;
          if (action.params.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') {
            const current = await mustCall('GetItem', { TableName: action.table, Key: action.key, ConsistentRead: true }, auth);
            item = current.Item as AttributeMap | undefined;
          }
          reasons.push({ Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...(item ? { Item: item } : {}) });
        }
      } catch (error) {
        await undoAll(applied, auth);
        throw error;
      }
      if (reasons.every((r) => r.Code === 'None')) {
        // A condition check on a missing item wrote its bare key to test the condition: take it away.
        for (const { action, old } of applied) if (action.kind === 'ConditionCheck' && !old) await undo(action, old, auth);
        return {};
      }
      await undoAll(applied, auth);
      throw new DynamoClientError(
        'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        { CancellationReasons: reasons },
      );
    } finally {
      release();
    }
  }

  async function undoAll(applied: readonly { action: Action; old?: AttributeMap }[], auth: IncomingHttpHeaders): Promise<void> {
    for (const { action, old } of [...applied].reverse()) await undo(action, old, auth);
  }

  function send(res: ServerResponse, reply: Reply): void {
    const headers = { ...reply.headers };
    delete headers['transfer-encoding'];
    delete headers.connection;
    delete headers['keep-alive'];
    res.writeHead(reply.status, { ...headers, 'content-length': String(reply.body.length) });
    res.end(reply.body);
  }

  function sendJson(res: ServerResponse, status: number, body: Json): void {
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': String(data.length),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(data);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const targetHeader = req.headers['x-amz-target'];
    const operation = typeof targetHeader === 'string' && targetHeader.startsWith(targetPrefix) ? targetHeader.slice(targetPrefix.length) : undefined;
    let payload: Json | undefined;
    if (operation === 'TransactWriteItems' || (operation && writeOperations.has(operation))) {
      try {
        payload = JSON.parse(body.toString('utf8') || '{}') as Json;
      } catch {
        payload = undefined; // dynalite answers the SerializationException
      }
    }
    if (operation === 'TransactWriteItems' && payload) {
      try {
        sendJson(res, 200, await transactWrite(payload, req.headers));
      } catch (error) {
        if (!(error instanceof DynamoClientError)) throw error;
        sendJson(res, 400, { __type: error.type, message: error.message, Message: error.message, ...error.extra });
      }
      return;
    }
    if (operation && payload && writeOperations.has(operation)) {
      const release = await locks.acquire(await keysOfWrite(operation, payload, req.headers));
      try {
        send(res, await forward(req.method ?? 'POST', req.url ?? '/', req.headers, body));
      } finally {
        release();
      }
      return;
    }
    send(res, await forward(req.method ?? 'POST', req.url ?? '/', req.headers, body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`[dynamo-transactions] ${describeError(error)}`);
      if (!res.headersSent) sendJson(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' });
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    stop: async () => {
      await closeServer(server);
      agent.destroy();
    },
  };
}
