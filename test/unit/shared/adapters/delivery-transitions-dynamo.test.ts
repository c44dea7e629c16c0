/**
 * Every transition of the delivery state machines against the real DynamoDB protocol (dynalite
 * behind the local transactions front). For each table (`notificationTransitions`,
 * `rowTransitions`), each transition, each status (allowed or not) and each guard held or broken,
 * an item is written in that state and the conditional write the store builds for the transition
 * (delivery-units.ts, or transitionCondition of dynamo-transitions.ts where the write is not the
 * engine's) is sent: it must succeed exactly when the table says the transition may be taken.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationClaim, notificationCommit, notificationGuards, notificationHold, rowCancel, rowClaim, rowCommit, rowGuards, rowHold, rowKey, rowStatusKey, rowWithdraw } from '../../../../shared/adapters/delivery-units.ts';
import type { ItemUpdate } from '../../../../shared/adapters/delivery-units.ts';
import { notificationKey } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { transitionCondition } from '../../../../shared/adapters/dynamo-transitions.ts';
import { rowTransitions } from '../../../../shared/domain/broadcast.ts';
import type { BroadcastRowStatus, RowGuard } from '../../../../shared/domain/broadcast.ts';
import type { DeliveryUnit, Settlement } from '../../../../shared/domain/delivery.ts';
import { notificationStatuses, notificationTransitions } from '../../../../shared/domain/notification.ts';
import type { NotificationGuard, NotificationStatus } from '../../../../shared/domain/notification.ts';
import type { Transition } from '../../../../shared/domain/state-machine.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
});

afterAll(async () => {
  await dynamo?.stop();
});

const now = new Date('2030-01-01T12:00:00.000Z');
const tenantId = 'walk';
/** The token of the claim the item holds, and the attempts the writer read (when a guard holds). */
const token = 'the-claim';
const seenAttempts = 2;
const retryRun = 1;
const rowStatuses: readonly BroadcastRowStatus[] = ['pending', 'sending', 'sent', 'failed', 'cancelled'];

/** One case: a transition tried from one status with each guard held (true) or broken (false). */
interface Case<S extends string, G extends string> {
  readonly name: string;
  readonly transition: Transition<S, G>;
  readonly status: S;
  readonly guards: Readonly<Record<G, boolean>>;
  readonly allowed: boolean;
}

/** Every status × every combination of the transition's guards, with what the table says. */
function casesOf<S extends string, G extends string>(table: Readonly<Record<string, Transition<S, G>>>, statuses: readonly S[], allGuards: readonly G[]): Case<S, G>[] {
  const cases: Case<S, G>[] = [];
  for (const [name, transition] of Object.entries(table)) {
    const used = transition.guards ?? [];
    for (const status of statuses) {
      for (let mask = 0; mask < 2 ** used.length; mask++) {
        // A guard the transition does not check is set broken: it must not matter.
        const guards = Object.fromEntries(allGuards.map((g) => [g, false])) as Record<G, boolean>;
        used.forEach((g, i) => {
          guards[g] = (mask & (1 << i)) !== 0;
        });
        const allowed = transition.from.includes(status) && used.every((g) => guards[g]);
        cases.push({ name, transition, status, guards, allowed });
      }
    }
  }
  return cases;
}

function describeCase(c: Case<string, string>): string {
  const guards = (c.transition.guards ?? []).map((g) => `${g}=${String(c.guards[g])}`).join(',');
  return `${c.name} from ${c.status}${guards ? ` [${guards}]` : ''}`;
}

/** Runs a built update as the engine does (a transaction) or as the other stores do (an UpdateItem): true when written. */
async function tryWrite(table: string, update: ItemUpdate, inTransaction: boolean): Promise<boolean> {
  try {
    if (inTransaction) await dynamo.documentClient.send(new TransactWriteCommand({ TransactItems: [{ Update: { TableName: table, ...update } }] }));
    else await dynamo.documentClient.send(new UpdateCommand({ TableName: table, ...update }));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    if ((error as { name?: string }).name === 'TransactionCanceledException') return false;
    throw error;
  }
}

function settlementOf(name: string): Settlement {
  if (name === 'finish') return { kind: 'finish' };
  if (name === 'fail') return { kind: 'fail', error: 'every channel failed', category: 'rejected' };
  return { kind: 'release', error: 'try later', category: 'unavailable', nextAttemptAt: now.getTime() + 300_000, refundAttempt: false };
}

const intent = { status: 'sending', at: now.toISOString(), detail: 'attempt 3' } as const;

describe('notificationTransitions on DynamoDB', () => {
  const cases = casesOf<NotificationStatus, NotificationGuard>(notificationTransitions, notificationStatuses, ['due', 'leaseExpired', 'holdsClaim', 'unchanged']);

  it('covers every transition, from every status, with every guard held and broken', () => {
    // Assess: 2 guards × 2 (claim, takeOver), 1 guard × 4 (finish, fail, release, hold), none × 3 (cancel, reschedule, retry)
    expect(cases).toHaveLength(5 * (4 + 4 + 2 + 2 + 2 + 1 + 1 + 2 + 1));
    expect(new Set(cases.map((c) => c.name))).toEqual(new Set(Object.keys(notificationTransitions)));
  });

  it('writes a notification exactly when its transition table allows it', async () => {
    // Prepare: one item per case, in the case's state, each guard held or broken
    const ids = cases.map((_, i) => `ntf_walk_${String(i).padStart(3, '0')}`);
    await Promise.all(
      cases.map((c, i) =>
        dynamo.documentClient.send(
          new PutCommand({
            TableName: 'notifications',
            Item: {
              ...notificationKey(tenantId, ids[i] ?? ''),
              tenantId,
              id: ids[i],
              status: c.status,
              dueAt: new Date(now.getTime() + (c.guards.due ? -1_000 : 1_000)).toISOString(),
              leaseUntil: now.getTime() + (c.guards.leaseExpired ? -1 : 60_000),
              claimToken: c.guards.holdsClaim ? token : 'another-claim',
              attempts: c.guards.unchanged ? seenAttempts : seenAttempts + 1,
              deliveries: {},
            },
          }),
        ),
      ),
    );

    // Act: the write each transition's store builds
    const written = await Promise.all(
      cases.map((c, i) => {
        const id = ids[i] ?? '';
        const unit: DeliveryUnit = {
          ref: { kind: 'notification', tenantId, notificationId: id },
          tenantId,
          recipientId: 'bob',
          status: c.status,
          dueAt: now.getTime(),
          attempts: seenAttempts,
          channels: ['email'],
          deliveries: {},
          content: { id, title: 't', message: 'm', type: 'x', priority: 'normal', createdAt: now.toISOString(), scheduledAt: now.toISOString() },
        };
        const claim = { token: 'a-new-claim', leaseUntil: now.getTime() + 60_000, intents: ['email'] as const, intent, takeover: c.name === 'takeOver' };
        switch (c.name) {
          case 'claim':
          case 'takeOver':
            return tryWrite('notifications', notificationClaim(unit, claim, now), true);
          case 'finish':
          case 'fail':
          case 'release':
            return tryWrite('notifications', notificationCommit(unit, { token, deliveries: {}, forget: [], settlement: settlementOf(c.name), expiresAt: 1 }, now), true);
          case 'hold':
            return tryWrite('notifications', notificationHold(unit, { until: now.getTime() + 3_600_000, reason: 'quiet hours' }, now), true);
          default: {
            // cancel, reschedule, retry: written by the notification store, on the same condition builder
            const condition = transitionCondition(c.transition, notificationGuards({ now, token, seenAttempts }));
            return tryWrite(
              'notifications',
              { Key: notificationKey(tenantId, id), UpdateExpression: 'SET #tstatus = :to', ...condition, ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ':to': c.transition.to } },
              false,
            );
          }
        }
      }),
    );

    // Assess
    const wrong = cases.filter((c, i) => written[i] !== c.allowed).map((c) => `${describeCase(c)}: expected ${c.allowed ? 'written' : 'refused'}`);
    expect(wrong).toEqual([]);
    expect(written.filter(Boolean).length).toBe(cases.filter((c) => c.allowed).length);
  });
});

describe('rowTransitions on DynamoDB', () => {
  const cases = casesOf<BroadcastRowStatus, RowGuard>(rowTransitions, rowStatuses, ['due', 'leaseExpired', 'holdsClaim', 'unchanged', 'failedBeforeRun']);

  it('covers every transition, from every status, with every guard held and broken', () => {
    // Assess: 2 guards × 3 (claim, takeOver, abandon), 1 guard × 6 (finish, fail, release, hold, withdraw, requeue), none × 1 (cancel)
    expect(cases).toHaveLength(5 * (4 + 4 + 2 + 2 + 2 + 1 + 2 + 4 + 2 + 2));
    expect(new Set(cases.map((c) => c.name))).toEqual(new Set(Object.keys(rowTransitions)));
  });

  it('writes a recipient row exactly when its transition table allows it', async () => {
    // Prepare: one row per case, in the case's state, each guard held or broken
    const broadcastId = 'brd_walk';
    const recipients = cases.map((_, i) => `r${String(i).padStart(3, '0')}`);
    await Promise.all(
      cases.map((c, i) => {
        const recipientId = recipients[i] ?? '';
        return dynamo.documentClient.send(
          new PutCommand({
            TableName: 'broadcast-recipients',
            Item: {
              ...rowKey(tenantId, broadcastId, recipientId),
              tenantId,
              broadcastId,
              status: c.status,
              // `due` holds when there is no retry time or it has come: broken, it is still ahead.
              ...(c.guards.due ? {} : { nextAttemptAt: new Date(now.getTime() + 1_000).toISOString() }),
              leaseUntil: now.getTime() + (c.guards.leaseExpired ? -1 : 60_000),
              claimToken: c.guards.holdsClaim ? token : 'another-claim',
              attempts: c.guards.unchanged ? seenAttempts : seenAttempts + 1,
              run: c.guards.failedBeforeRun ? retryRun - 1 : retryRun,
              deliveries: {},
            },
          }),
        );
      }),
    );

    // Act
    const written = await Promise.all(
      cases.map((c, i) => {
        const recipientId = recipients[i] ?? '';
        const unit: DeliveryUnit = {
          ref: { kind: 'broadcast', tenantId, broadcastId, recipientId },
          tenantId,
          recipientId,
          // What the writer read: rowCancel picks `abandon` for a row it read held, `cancel` for a pending one.
          status: c.name === 'abandon' || c.name === 'withdraw' ? 'sending' : c.name === 'cancel' ? 'pending' : c.status,
          dueAt: 0,
          attempts: seenAttempts,
          channels: ['email'],
          deliveries: {},
          content: { id: broadcastId, broadcastId, title: 't', message: 'm', type: 'x', priority: 'normal', createdAt: now.toISOString(), scheduledAt: null },
        };
        const claim = { token: 'a-new-claim', leaseUntil: now.getTime() + 60_000, intents: ['email'] as const, intent, takeover: c.name === 'takeOver' };
        switch (c.name) {
          case 'claim':
          case 'takeOver':
            return tryWrite('broadcast-recipients', rowClaim(unit, claim, now), true);
          case 'finish':
          case 'fail':
          case 'release':
            return tryWrite('broadcast-recipients', rowCommit(unit, { token, deliveries: {}, forget: [], settlement: settlementOf(c.name), expiresAt: 1 }, now), true);
          case 'cancel':
          case 'abandon':
            return tryWrite('broadcast-recipients', rowCancel(unit, now, 1), true);
          case 'withdraw':
            return tryWrite('broadcast-recipients', rowWithdraw(unit, token, ['email'], now, 1), true);
          case 'hold':
            return tryWrite('broadcast-recipients', rowHold(unit, { until: now.getTime() + 3_600_000, reason: 'quiet hours' }, now), true);
          default: {
            // requeue: a broadcast retry, written by the row store on the same condition builder
            const condition = transitionCondition(c.transition, rowGuards({ now, run: retryRun }));
            return tryWrite(
              'broadcast-recipients',
              { Key: rowKey(tenantId, broadcastId, recipientId), UpdateExpression: 'SET #tstatus = :to', ...condition, ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ':to': c.transition.to } },
              false,
            );
          }
        }
      }),
    );

    // Assess
    const wrong = cases.filter((c, i) => written[i] !== c.allowed).map((c) => `${describeCase(c)}: expected ${c.allowed ? 'written' : 'refused'}`);
    expect(wrong).toEqual([]);
    expect(written.filter(Boolean).length).toBe(cases.filter((c) => c.allowed).length);
  });

  it('takes a row pending again out of the sparse status index, and puts a final one in under its status', async () => {
    // Prepare: three held rows, one of them written before pending rows left the index (a `pending` key)
    const broadcastId = 'brd_sparse';
    const held = (recipientId: string, legacyKey: boolean): Promise<unknown> =>
      dynamo.documentClient.send(
        new PutCommand({
          TableName: 'broadcast-recipients',
          Item: {
            ...rowKey(tenantId, broadcastId, recipientId),
            ...(legacyKey ? { statusKey: rowStatusKey(tenantId, broadcastId, recipientId, 'pending') } : {}),
            tenantId,
            broadcastId,
            status: 'sending',
            leaseUntil: now.getTime() + 60_000,
            claimToken: token,
            attempts: seenAttempts,
            run: 0,
            deliveries: {},
          },
        }),
      );
    await Promise.all([held('again', false), held('legacy', true), held('done', false)]);
    const unit = (recipientId: string): DeliveryUnit => ({
      ref: { kind: 'broadcast', tenantId, broadcastId, recipientId },
      tenantId,
      recipientId,
      status: 'sending',
      dueAt: 0,
      attempts: seenAttempts,
      channels: ['email'],
      deliveries: {},
      content: { id: broadcastId, broadcastId, title: 't', message: 'm', type: 'x', priority: 'normal', createdAt: now.toISOString(), scheduledAt: null },
    });
    const commit = (recipientId: string, kind: 'release' | 'finish'): Promise<boolean> =>
      tryWrite('broadcast-recipients', rowCommit(unit(recipientId), { token, deliveries: {}, forget: [], settlement: settlementOf(kind), expiresAt: 1 }, now), true);

    // Act
    const written = await Promise.all([commit('again', 'release'), commit('legacy', 'release'), commit('done', 'finish')]);

    // Assess
    expect(written).toEqual([true, true, true]);
    const keyOf = async (recipientId: string): Promise<unknown> =>
      (await dynamo.documentClient.send(new GetCommand({ TableName: 'broadcast-recipients', Key: rowKey(tenantId, broadcastId, recipientId), ConsistentRead: true }))).Item?.statusKey;
    expect(await keyOf('again')).toBeUndefined();
    expect(await keyOf('legacy')).toBeUndefined();
    expect(await keyOf('done')).toBe(rowStatusKey(tenantId, broadcastId, 'done', 'sent'));
  });
});
