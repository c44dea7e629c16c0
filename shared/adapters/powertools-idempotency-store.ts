/**
 * Idempotent creates on Powertools for AWS Lambda's idempotency utility, which keeps one
 * DynamoDB item per key: a conditional put takes the key (status INPROGRESS, with a lock that
 * expires when the first request may no longer be running), the response is stored on success,
 * and the item is deleted when the work throws, so a failed request never burns its key.
 * Repeats get the stored response; a repeat whose payload hash differs is refused.
 *
 * Why Powertools rather than our own: it is exactly this protocol (in-progress locking, payload
 * validation, expiry checked on read so DynamoDB's lazy TTL deletion cannot resurrect a key),
 * maintained by AWS. We call `makeIdempotent` on a closure rather than using its middy
 * middleware, because only create routes are idempotent and the key is scoped by tenant, caller
 * and route (built by shared/http/idempotency.ts), not read from the raw event.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { IdempotencyAlreadyInProgressError, IdempotencyItemNotFoundError, IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { IdempotencyConflictError, IdempotencyInProgressError } from '../errors.ts';
import type { IdempotencyStore, IdempotentRequest } from '../ports.ts';

/** The prefix of every key Herald hashes into the table. */
const keyPrefix = 'herald';

/** How long a key and its response are kept: repeats within this window are replayed. */
export const idempotencyRetentionSeconds = 24 * 60 * 60;

/** The payload Powertools sees: the scoped key to hash, and the fingerprint to validate repeats with. */
interface KeyedPayload {
  readonly key: string;
  readonly fingerprint: string;
}

export class PowertoolsIdempotencyStore implements IdempotencyStore {
  private readonly persistence: DynamoDBPersistenceLayer;

  constructor(client: DynamoDBClient, tableName: string) {
    this.persistence = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });
  }

  async has(request: IdempotentRequest): Promise<boolean> {
    this.persistence.configure({ config: this.config(() => undefined), keyPrefix });
    try {
      const record = await this.persistence.getRecord({ key: request.key, fingerprint: request.fingerprint });
      return !record.isExpired();
    } catch (error) {
      if (error instanceof IdempotencyItemNotFoundError) return false;
      // Another body under the key: `run` refuses it (422).
      if (error instanceof IdempotencyValidationError) return true;
      throw error;
    }
  }

  /** Powertools' settings for Herald's keys; `onReplay` hears of a stored response being replayed. */
  private config(onReplay: () => void): IdempotencyConfig {
    return new IdempotencyConfig({
      eventKeyJmesPath: 'key',
      payloadValidationJmesPath: 'fingerprint',
      throwOnNoIdempotencyKey: true,
      expiresAfterSeconds: idempotencyRetentionSeconds,
      hashFunction: 'sha256',
      responseHook: (response) => {
        onReplay();
        return response;
      },
    });
  }

  async run<T>(request: IdempotentRequest, work: () => Promise<T>): Promise<{ readonly result: T; readonly replayed: boolean }> {
    let replayed = false;
    // A config per request: it carries this request's lock and replay flag (the persistence layer
    // takes its settings from the first config, and every config here has the same settings).
    const config = this.config(() => {
      replayed = true;
    });
    // Powertools locks a key for the invocation's remaining time; the caller says how long that is.
    const lock: Pick<Context, 'getRemainingTimeInMillis'> = { getRemainingTimeInMillis: () => request.lockSeconds * 1000 };
    config.registerLambdaContext(lock as Context);
    const runOnce = makeIdempotent(async (_payload: KeyedPayload): Promise<T> => work(), {
      persistenceStore: this.persistence,
      config,
      keyPrefix,
    });
    try {
      const result = await runOnce({ key: request.key, fingerprint: request.fingerprint });
      return { result, replayed };
    } catch (error) {
      if (error instanceof IdempotencyValidationError) {
        throw new IdempotencyConflictError('This Idempotency-Key was already used with a different request body', { cause: error });
      }
      if (error instanceof IdempotencyAlreadyInProgressError) {
        throw new IdempotencyInProgressError('A request with this Idempotency-Key is still in progress; retry shortly', {
          cause: error,
        });
      }
      throw error;
    }
  }
}
