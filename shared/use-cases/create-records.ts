/**
 * Creates that converge when retried after a death, with the request's `Idempotency-Key` or an
 * occurrence's own key: the one home of the protocol of {@link CreateRecord}s, for every create
 * that writes before it answers (notifications, broadcasts, the occurrences that make either).
 * docs/architecture.md, "Creating a notification whose schedule cannot be made", says why and
 * what it costs.
 */
import { IdempotencyInProgressError } from '../errors.ts';
import type { CreateRecord, CreateRecords, IdempotentRequest } from '../ports.ts';
import { logger } from '../observability/logger.ts';

/** The `Idempotency-Key` of a create, as the idempotency utility scopes it (shared/http/idempotency.ts, `idempotencyKeyOf`). */
export type CreateKey = Pick<IdempotentRequest, 'key' | 'fingerprint'>;

/** What a create goes on with: its ids and clock, and whether a dead attempt of the same key chose them. */
export interface CreateAttempt {
  readonly ids: readonly string[];
  /** The instant every time of the create is resolved against: the first attempt's. */
  readonly now: Date;
  /** Its record, when the request has a key. */
  readonly record?: CreateRecord;
  /** True when an earlier attempt of the same request chose these ids and died before answering. */
  readonly retry: boolean;
}

/**
 * Undoes what a create wrote (all of it, or what of `ids` is left) and resolves with the ids it
 * could not undo: those delivered or being delivered, which nothing can take back. None: the
 * create is undone.
 */
export type UndoCreate = () => Promise<readonly string[]>;

/** Replacements of a record a create tries before it gives up with a 409 (only a racing attempt of the same key can change it). */
const recordRounds = 3;

/**
 * Takes the ids of a create (`count` of them, made by `newId`). Without a key: new ones, at no
 * cost. With one: new ones recorded under the key (one conditional write); or, when an earlier
 * attempt of the same request died after recording them, that attempt's ids and clock (learnt
 * from the refused write), so that the retry writes the same items instead of a second set. A
 * record of another body, or of an attempt whose rollback started, is given up and replaced:
 * those ids are not this request's, or never reached the client (it got a 503, or nothing); a
 * rollback that died part-way is first finished by `abandon(ids)`, which must leave nothing of
 * those ids that could still be delivered, and resolves with those it could not undo (delivered
 * or being delivered). When there are some, the create cannot be abandoned: a retry of the same
 * request takes that attempt's ids and clock instead, to complete it.
 * @throws IdempotencyInProgressError (409) when another attempt of the same key keeps changing the record
 */
export async function takeCreateIds(
  records: CreateRecords | undefined,
  key: CreateKey | undefined,
  count: number,
  now: Date,
  newId: (now: Date) => string,
  abandon: (ids: readonly string[]) => Promise<readonly string[]>,
): Promise<CreateAttempt> {
  const ids = Array.from({ length: count }, () => newId(now));
  if (!key) return { ids, now, retry: false };
  if (!records) throw new Error('This function was given no create records: it cannot honour an Idempotency-Key');
  const fresh: CreateRecord = { key: key.key, fingerprint: key.fingerprint, ids, createdAt: now.toISOString(), state: 'creating' };
  for (let round = 1; round <= recordRounds; round++) {
    const found = await records.put(fresh, now);
    if (!found) return { ids, now, record: fresh, retry: false };
    if (found.state === 'creating' && found.fingerprint === key.fingerprint && found.ids.length === count) {
      // Renewed: a retry holds the key for another idempotency window, and so must its record.
      if (await records.replace(found, found, now)) return { ids: found.ids, now: new Date(found.createdAt), record: found, retry: true };
      continue;
    }
    const sameRequest = found.fingerprint === key.fingerprint && found.ids.length === count;
    if (found.state === 'rolledBack' && (await abandon(found.ids)).length > 0 && sameRequest) {
      // Part of it reached recipients: new ids would reach them twice. Completed under its own ids instead.
      const resumed: CreateRecord = { ...found, state: 'creating' };
      if (await records.replace(found, resumed, now)) return { ids: found.ids, now: new Date(found.createdAt), record: resumed, retry: true };
      continue;
    }
    if (await records.replace(found, fresh, now)) return { ids, now, record: fresh, retry: false };
  }
  throw new IdempotencyInProgressError('Another attempt of this request is changing its record; retry shortly');
}

/**
 * Undoes a create (`undo`) under its record, if it has one: the record says `rolledBack` first, so
 * a retry after a rollback that died part-way finishes it rather than answering for items that
 * will never be delivered. Once undone, the record is removed, so a retry starts afresh at the
 * price of a first attempt. When `undo` could not undo some (delivered or being delivered), the
 * create cannot be undone: the record says `creating` again, with the same ids, so that a retry
 * completes it (writes again what was undone, leaves those as they are) rather than reaching
 * their recipients twice under new ids. Resolves with those ids; none when the create is undone.
 * @throws Error when the record cannot be marked: then nothing is undone, and a retry converges on what was written
 */
export async function rollBackCreate(records: CreateRecords | undefined, record: CreateRecord | undefined, now: Date, undo: UndoCreate): Promise<readonly string[]> {
  const rolledBack: CreateRecord | undefined = record && { ...record, state: 'rolledBack' };
  if (record && rolledBack && !(await records?.replace(record, rolledBack, now))) throw new Error('The record of the create changed meanwhile');
  const kept = await undo();
  if (!record || !rolledBack) return kept;
  if (kept.length === 0) await records?.remove(rolledBack);
  else {
    // If this fails, the record stays `rolledBack`: a retry's `abandon` finds the same ids kept and resumes it all the same.
    await records?.replace(rolledBack, record, now).catch((error: unknown) => {
      logger.warn('Could not mark a create that cannot be undone as creating again; a retry resumes it from its rollback', { error: error as Error });
    });
  }
  return kept;
}
