/**
 * Recurring notifications (issue 12): create, list, read, change, pause/resume and end them
 * (admins and senders; a sender its own), and run each occurrence the schedule fires. An
 * occurrence is keyed on the recurring id and its instant: the first worker to claim it creates
 * one notification per recipient (or one broadcast), a repeat finds it done and creates nothing.
 */
import * as z from '../zod-mini.ts';
import { canManageTenant, isAdmin } from '../domain/caller.ts';
import type { Caller } from '../domain/caller.ts';
import { newRecurringId } from '../domain/ids.ts';
import { decodeCursor, encodeCursor } from '../domain/page-cursor.ts';
import { changedSchedule, checkRecurringSchedule, checkScheduleFires, missedFiring, nextOccurrences, RecurringScheduleError, scheduleAnchorMs, scheduleExpressionOf, schedulerStartDate, startAtAsOf } from '../domain/recurring.ts';
import type { RecurringNotification } from '../domain/recurring.ts';
import { recurringId } from '../domain/id-schemas.ts';
import type { CreateRecurringBody, ListRecurringQuery, PatchRecurringBody } from '../domain/schemas.ts';
import { audienceSliceSize } from '../domain/broadcast.ts';
import { ConflictError, ForbiddenError, NotFoundError, ServiceUnavailableError, ValidationError } from '../errors.ts';
import { describeError } from '../domain/delivery-errors.ts';
import { logger } from '../observability/logger.ts';
import type { Clock, CreateRecord, CreateRecords, RecipientStore, RecurringScheduler, RecurringStore } from '../ports.ts';
import { rollBackCreate, takeCreateIds } from './create-records.ts';
import type { CreateKey } from './create-records.ts';
import { createBroadcast } from './broadcasts.ts';
import type { BroadcastDeps } from './broadcasts.ts';
import { scheduleNotifications } from './notifications.ts';
import { registeredRecipients } from './registered-recipients.ts';
import type { NotificationDeps } from './notifications.ts';

export interface RecurringDeps {
  readonly recurring: RecurringStore;
  readonly scheduler: RecurringScheduler;
  readonly recipients: Pick<RecipientStore, 'getMany'>;
  readonly clock: Clock;
  /**
   * Where a create with an `Idempotency-Key` records the id it is about to write, so that a retry
   * after its death converges on that definition.
   * @default none: a create with a key fails (one without needs none)
   */
  readonly createRecords?: CreateRecords;
}

/** How many upcoming occurrences a definition's view shows. */
export const shownUpcomingOccurrences = 5;

function requireManager(caller: Caller): void {
  if (!canManageTenant(caller)) throw new ForbiddenError('Only admins and senders may manage recurring notifications');
}

/** What `read` (a reading of a schedule) gives, or a 400 naming the field that is wrong. */
function scheduleOr400<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof RecurringScheduleError)) throw error;
    throw new ValidationError(`${error.field} ${error.message}`, { details: [{ field: error.field, message: error.message }] });
  }
}

/** EventBridge Scheduler refused the expression (ValidationException): a 400 naming it. */
function isRefusedExpression(error: unknown): boolean {
  return (error as { name?: string }).name === 'ValidationException';
}

/**
 * Puts `recurring`'s schedule as of `now`: the instant its `scheduleSetAt` was read from when the
 * expression was set in this request (a later reading would put a rate set "now" a period ahead).
 */
async function putSchedule(deps: RecurringDeps, recurring: RecurringNotification, now: Date): Promise<void> {
  try {
    await deps.scheduler.put(recurring, schedulerStartDate(recurring.schedule, scheduleAnchorMs(recurring), now.getTime()));
  } catch (error) {
    if (isRefusedExpression(error)) {
      const field = recurring.schedule.cron !== undefined ? 'schedule.cron' : 'schedule.rate';
      throw new ValidationError(`The scheduler refused the schedule: ${(error as Error).message}`, { details: [{ field, message: (error as Error).message }] });
    }
    throw new ServiceUnavailableError('Could not reach the scheduler; repeat the request', { cause: error });
  }
}

/**
 * For a retry: the definition its dead attempt wrote may have been found (listed) and deleted
 * since, and is not made again (with its schedule, it would deliver again what its owner stopped),
 * nor taken up again when that DELETE failed part-way (after the schedule went: the definition is
 * left, never firing, until the DELETE is repeated).
 * @throws ConflictError (409, `details: { id, deletedAt }`) when a DELETE of it began
 */
async function refuseDeletedSince(deps: RecurringDeps, recurring: RecurringNotification): Promise<void> {
  const deletedAt = await deps.recurring.deletedAt(recurring.tenantId, recurring.id);
  if (deletedAt === undefined) return;
  throw new ConflictError(`The recurring notification this request created, ${recurring.id}, was deleted (its DELETE began at ${deletedAt}); it is not made again`, {
    details: { id: recurring.id, deletedAt },
  });
}

/**
 * For a retry (as of its clock, `now`): when the schedule its dead attempt was to put is not there,
 * nothing has fired since the definition was stamped, so the last firing that schedule would have
 * made by now (the one at the create itself, for a rate without `startAt`; `missedFiring`) is
 * fired now, before the schedule is put from the next one on: the retry answers as if the first
 * attempt had. Earlier ones are not made up, nor one older than an hour (a schedule's own firing
 * is dropped at that age). Nothing for a paused definition. Firing one instant again (a retry that
 * died after its firing) creates nothing more: an occurrence is created once per instant.
 * `firing.attempted` is set when it tries to fire.
 * @throws ServiceUnavailableError (503) when the Scheduler or the fan-out queue cannot be reached
 */
async function fireMissed(deps: RecurringDeps, recurring: RecurringNotification, now: Date, firing: { attempted: boolean }): Promise<void> {
  if (recurring.status !== 'active') return;
  const missed = missedFiring(recurring.schedule, scheduleAnchorMs(recurring), now.getTime());
  if (missed === undefined) return;
  try {
    if (await deps.scheduler.exists(recurring)) return;
    // Set before the call: an error answer does not mean the message was not sent.
    firing.attempted = true;
    await deps.scheduler.fire(recurring, missed);
  } catch (error) {
    throw new ServiceUnavailableError('Could not reach the scheduler; repeat the request', { cause: error });
  }
  logger.info('Recurring notification fired the occurrence its missing schedule missed', { tenantId: recurring.tenantId, recurringId: recurring.id, at: new Date(missed).toISOString() });
}

/** The schedule a create's body asks for at `now`, its instants as ISO-8601 UTC (a `startAt` just past taken as now, `startAtAsOf`). */
function scheduleOf(body: CreateRecurringBody, now: Date): RecurringNotification['schedule'] {
  return {
    ...(body.schedule.cron !== undefined ? { cron: body.schedule.cron } : {}),
    ...(body.schedule.rate !== undefined ? { rate: body.schedule.rate } : {}),
    timezone: body.schedule.timezone,
    ...(body.schedule.startAt ? { startAt: startAtAsOf(new Date(body.schedule.startAt).toISOString(), now.getTime()) } : {}),
    ...(body.schedule.endAt ? { endAt: new Date(body.schedule.endAt).toISOString() } : {}),
  };
}

/**
 * What {@link createRecurring} would refuse at `now` (403, 400 naming the schedule's field, 404
 * naming unregistered recipients), without writing: run before an idempotent create takes its key.
 */
export async function checkCreateRecurring(deps: Pick<RecurringDeps, 'recipients'>, caller: Caller, body: CreateRecurringBody, now: Date): Promise<void> {
  requireManager(caller);
  const schedule = scheduleOf(body, now);
  scheduleOr400(() => {
    checkRecurringSchedule(schedule);
    checkScheduleFires(schedule, now.getTime(), now.getTime());
  });
  const named = body.recipients ?? body.audience?.recipientIds;
  if (named) await registeredRecipients(deps.recipients, caller.tenantId, named);
}

/**
 * Creates a recurring notification and its schedule (admins and senders). With
 * `origin.idempotency` (the request's `Idempotency-Key`), a retry after an attempt that died before
 * answering converges on that attempt's definition (the same id and clock; written only if it is
 * not there, left as it is if it is) and puts its schedule, which the Scheduler replaces if the
 * dead attempt made it (`put`: `ConflictException` on the name is an update), rather than making
 * a second definition and a second schedule that would deliver every occurrence twice; when that
 * schedule was never made, the retry first fires the occurrence it missed (`fireMissed`); without
 * a key, it costs no AWS call more (shared/use-cases/create-records.ts).
 * @throws ValidationError (400) naming the schedule's field when it cannot fire or the Scheduler refuses it: nothing this attempt wrote is kept (a definition a dead attempt wrote stays, as for every error of a retry)
 * @throws NotFoundError (404, `details.missing`) when it names a recipient not registered
 * @throws ConflictError (409, `details: { id, deletedAt }`) for a retry whose definition, written by its dead attempt, was deleted since (a DELETE of it began): it is not made again
 * @throws ServiceUnavailableError (503) when its schedule could not be made: the definition this attempt wrote is rolled back, unless this attempt tried to fire its missed occurrence (then it is kept, as one a dead attempt wrote is, for the next retry)
 */
export async function createRecurring(
  deps: RecurringDeps,
  caller: Caller,
  body: CreateRecurringBody,
  origin: { readonly idempotency?: CreateKey } = {},
): Promise<RecurringNotification> {
  requireManager(caller);
  const started = deps.clock.now();
  // A definition can always be taken back: an occurrence it already made is its own create, with its own record.
  const attempt = await takeCreateIds(deps.createRecords, origin.idempotency, 1, started, newRecurringId, async ([id]) => {
    if (id !== undefined) await abandonRecurring(deps, caller.tenantId, id);
    return [];
  });
  // A retry checks and stamps the definition against the first attempt's clock: the same answer.
  const { now } = attempt;
  await checkCreateRecurring(deps, caller, body, now);
  const audience = body.audience;
  const recurring: RecurringNotification = {
    tenantId: caller.tenantId,
    id: attempt.ids[0] ?? newRecurringId(now),
    createdBy: caller.sub,
    createdByRoles: caller.roles,
    ...(body.recipients ? { recipients: body.recipients } : {}),
    ...(audience?.all ? { audience: { kind: 'all' as const } } : {}),
    ...(audience?.groups ? { audience: { kind: 'groups' as const, groups: audience.groups } } : {}),
    ...(audience?.recipientIds ? { audience: { kind: 'recipients' as const, count: audience.recipientIds.length, sliceSize: audienceSliceSize }, audienceIds: audience.recipientIds } : {}),
    title: body.title,
    message: body.message,
    ...(body.channels ? { channels: body.channels } : {}),
    type: body.type,
    priority: body.priority,
    ...(body.data ? { data: body.data } : {}),
    schedule: scheduleOf(body, now),
    status: 'active',
    occurrences: [],
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    scheduleSetAt: now.toISOString(),
  };
  // A retry never overwrites: the definition its dead attempt wrote may have been patched, paused or run since.
  const existing = attempt.retry ? await deps.recurring.get(recurring.tenantId, recurring.id) : undefined;
  // After that read: a DELETE puts its marker before it removes the definition, so one that did is seen here.
  if (attempt.retry) await refuseDeletedSince(deps, recurring);
  if (!existing) await deps.recurring.put(recurring);
  const current = existing ?? recurring;
  const firing = { attempted: false };
  try {
    if (attempt.retry) await fireMissed(deps, current, started, firing);
    // As of this attempt's clock: a retry's StartDate keeps the grid its definition has, and is never past.
    await putSchedule(deps, current, started);
  } catch (error) {
    // One this attempt wrote would never fire: taken back, so that the client can simply retry. One
    // a dead attempt left is kept (it may have fired, or been changed since), and so is one whose
    // missed occurrence this attempt fired, or may have (an error answer to a SendMessage that got
    // through): the occurrence may be under way, and the next retry converges on that definition.
    const refused = error instanceof ValidationError;
    if (!existing && (!firing.attempted || refused)) await rollBackRecurring(deps, recurring, attempt.record, { scheduleMayExist: !refused });
    if (firing.attempted && refused) {
      logger.warn('A retried recurring create fired the occurrence its missing schedule missed, then the Scheduler refused the schedule', { tenantId: current.tenantId, recurringId: current.id });
    }
    throw error;
  }
  const created = attempt.retry ? await convergeAfterPut(deps, current) : current;
  logger.info('Recurring notification created', { tenantId: created.tenantId, recurringId: created.id, retry: attempt.retry });
  return created;
}

/**
 * After a retry's put, the definition read again: what changed it between the retry's first read
 * and its put is not undone by that put. A DELETE removed the schedule before the put made it
 * again: that schedule is taken back (best effort: left, it only fires for nothing) and the retry
 * answers as one that came after the DELETE. A PATCH (a new expression, a pause, a resume) put its
 * own schedule, which the retry's put may have replaced: the schedule is put again from the
 * definition as it now is (as of now, so a rate the PATCH set keeps the grid it started).
 * Resolves with the definition as it now is.
 * @throws ConflictError (409) when the definition is gone
 * @throws ServiceUnavailableError (503) when the schedule cannot be put again: the definition is kept, and a retry converges on it
 */
async function convergeAfterPut(deps: RecurringDeps, recurring: RecurringNotification): Promise<RecurringNotification> {
  const stored = await deps.recurring.get(recurring.tenantId, recurring.id);
  if (stored) {
    if (stored.updatedAt !== recurring.updatedAt) await putSchedule(deps, stored, deps.clock.now());
    return stored;
  }
  await deps.scheduler.remove(recurring).catch((error: unknown) => {
    logger.warn('Could not delete the schedule a retried create put for a definition deleted meanwhile; it fires for nothing until deleted', {
      tenantId: recurring.tenantId,
      recurringId: recurring.id,
      error: describeError(error),
    });
  });
  await refuseDeletedSince(deps, recurring);
  throw new ConflictError(`The recurring notification this request created, ${recurring.id}, was deleted meanwhile; it is not made again`, { details: { id: recurring.id } });
}

/**
 * Removes a definition whose schedule could not be made; with a key, under its record. A rollback
 * that fails is logged and the error stands: the definition left never fires (it has no
 * schedule), and a retry with the key converges on it and puts its schedule.
 *
 * When the Scheduler's answer was an error other than a refusal (`scheduleMayExist`: a timeout, a
 * throttle after a retried call that did reach it), the schedule may have been made all the same:
 * it is deleted first (a missing one is no error), since left alone it would fire for nothing, for
 * good. A delete that fails is logged; the definition still goes.
 */
async function rollBackRecurring(
  deps: RecurringDeps,
  recurring: RecurringNotification,
  record: CreateRecord | undefined,
  { scheduleMayExist }: { readonly scheduleMayExist: boolean },
): Promise<void> {
  if (scheduleMayExist) {
    await deps.scheduler.remove(recurring).catch((error: unknown) => {
      logger.warn('Could not delete the schedule a failed recurring create may have made; it fires for nothing until deleted', {
        tenantId: recurring.tenantId,
        recurringId: recurring.id,
        error: describeError(error),
      });
    });
  }
  try {
    await rollBackCreate(deps.createRecords, record, deps.clock.now(), async () => {
      await deps.recurring.remove(recurring.tenantId, recurring.id);
      return [];
    });
  } catch (error) {
    logger.error('Could not roll back a recurring notification whose schedule could not be made', {
      tenantId: recurring.tenantId,
      recurringId: recurring.id,
      error: describeError(error),
    });
  }
}

/**
 * Finishes the rollback of a create that died part-way: its definition goes (an occurrence then
 * finds nothing and creates nothing), then its schedule, if one was made (a leftover only fires
 * for nothing, so a failure to delete it is logged, not thrown).
 */
async function abandonRecurring(deps: RecurringDeps, tenantId: string, id: string): Promise<void> {
  await deps.recurring.remove(tenantId, id);
  await deps.scheduler.remove({ tenantId, id }).catch((error: unknown) => {
    logger.warn('Could not delete the schedule of an abandoned recurring notification', { tenantId, recurringId: id, error: describeError(error) });
  });
}

/** A definition the caller may see: a sender its own, an admin any of the tenant's (else 404). */
export async function getRecurring(deps: Pick<RecurringDeps, 'recurring'>, caller: Caller, id: string): Promise<RecurringNotification> {
  requireManager(caller);
  const recurring = await deps.recurring.get(caller.tenantId, id);
  if (!recurring || (!isAdmin(caller) && recurring.createdBy !== caller.sub)) throw new NotFoundError(`Recurring notification ${id} not found`);
  return recurring;
}

/** The next occurrences of an active definition (epoch ms); none while paused. */
export function upcomingOccurrences(recurring: RecurringNotification, now: Date): number[] {
  if (recurring.status === 'paused') return [];
  try {
    return nextOccurrences(recurring.schedule, now.getTime(), shownUpcomingOccurrences, scheduleAnchorMs(recurring));
  } catch (error) {
    // A definition stored before its cron was checked as it now is: shown without a preview.
    if (error instanceof RecurringScheduleError) return [];
    throw error;
  }
}

// `after` is a definition's id: any other text (empty, longer than a key may be) would reach
// DynamoDB's key condition and come back as a 500, not as the 400 of a forged cursor.
const cursorSchema = z.object({ recurring: z.literal(true), after: recurringId });

/** A page of the tenant's definitions (a sender's own), in id order. */
export async function listRecurring(
  deps: Pick<RecurringDeps, 'recurring'>,
  caller: Caller,
  query: ListRecurringQuery,
): Promise<{ items: RecurringNotification[]; nextCursor: string | null }> {
  requireManager(caller);
  let after: string | undefined;
  if (query.cursor !== undefined) {
    const position = decodeCursor(query.cursor, cursorSchema);
    if (!position) throw new ValidationError('cursor is not a cursor of this listing', { details: [{ field: 'cursor', message: 'is not a cursor of this listing' }] });
    after = position.after;
  }
  const items: RecurringNotification[] = [];
  // A sender sees its own: read on until the page is full or the tenant's list ends.
  for (let round = 0; round < 10 && items.length < query.limit; round++) {
    const page = await deps.recurring.list(caller.tenantId, query.limit - items.length, after);
    items.push(...page.items.filter((r) => isAdmin(caller) || r.createdBy === caller.sub));
    after = page.after;
    if (after === undefined) break;
  }
  const last = items.at(-1);
  return { items, nextCursor: after !== undefined && last ? encodeCursor({ recurring: true, after: last.id }) : null };
}

/**
 * True when two schedules fire on the same expression: `5 minute` and `5 minutes`, a five-field
 * cron and its EventBridge fields, are one (the Scheduler is given the same `rate(5 minutes)`).
 * A schedule stored under older rules that no longer reads compares as written.
 */
function sameExpression(a: RecurringNotification['schedule'], b: RecurringNotification['schedule']): boolean {
  try {
    return scheduleExpressionOf(a) === scheduleExpressionOf(b);
  } catch {
    return a.cron === b.cron && a.rate === b.rate;
  }
}

/** Changes a definition and its schedule; `paused` pauses (the schedule DISABLED) or resumes it. */
export async function patchRecurring(deps: RecurringDeps, caller: Caller, id: string, body: PatchRecurringBody): Promise<RecurringNotification> {
  const existing = await getRecurring(deps, caller, id);
  const now = deps.clock.now();
  // A new cron or rate starts afresh; anything else (a title, a pause, the bounds) keeps a rate's times.
  const expressionChangedIn = (schedule: RecurringNotification['schedule']): boolean => !sameExpression(schedule, existing.schedule);
  // A change of the schedule is merged into it, then checked as a new one is.
  const schedule = scheduleOr400(() => {
    const merged = body.schedule ? changedSchedule(existing.schedule, body.schedule, now.getTime()) : existing.schedule;
    // Only a change is checked: a rename or a pause of a definition stored under older rules stands.
    if (body.schedule) checkRecurringSchedule(merged);
    // A changed schedule must fire again; a definition past its end can still be renamed or paused.
    if (body.schedule) checkScheduleFires(merged, expressionChangedIn(merged) ? now.getTime() : scheduleAnchorMs(existing), now.getTime());
    return merged;
  });
  const expressionChanged = expressionChangedIn(schedule);
  const next: RecurringNotification = {
    ...existing,
    ...(body.title !== undefined ? { title: body.title } : {}),
    ...(body.message !== undefined ? { message: body.message } : {}),
    ...(body.channels !== undefined ? { channels: body.channels } : {}),
    ...(body.type !== undefined ? { type: body.type } : {}),
    ...(body.priority !== undefined ? { priority: body.priority } : {}),
    ...(body.data !== undefined ? { data: body.data } : {}),
    schedule,
    status: body.paused === undefined ? existing.status : body.paused ? 'paused' : 'active',
    updatedAt: now.toISOString(),
    scheduleSetAt: expressionChanged ? now.toISOString() : new Date(scheduleAnchorMs(existing)).toISOString(),
  };
  // The schedule first: paused means no more occurrences, and a refused expression changes nothing.
  await putSchedule(deps, next, now);
  if (!(await deps.recurring.update(next))) {
    // Deleted meanwhile: the schedule just put would fire for nothing, and the definition is not made again.
    await deps.scheduler.remove(next).catch((error: unknown) => logger.warn('Could not remove the schedule of a recurring notification deleted meanwhile', { tenantId: next.tenantId, recurringId: id, error: describeError(error) }));
    throw new NotFoundError(`Recurring notification ${id} not found`);
  }
  return next;
}

/**
 * Ends a definition: a marker says when (`markDeleted`: a create retried with its key is refused
 * rather than made again; taken back when the Scheduler cannot be reached and nothing is removed),
 * then its schedule is deleted, then the definition (an occurrence in flight finds nothing), then
 * the schedule once more: a `PATCH` that read the definition before it went may have put its
 * schedule back in between (a `PATCH` that writes after it finds it gone and takes its own
 * schedule back).
 */
export async function deleteRecurring(deps: RecurringDeps, caller: Caller, id: string): Promise<void> {
  const existing = await getRecurring(deps, caller, id);
  // First: a create retried with its key never finds it gone, or half deleted, without the marker.
  await deps.recurring.markDeleted(existing.tenantId, id, deps.clock.now());
  try {
    await deps.scheduler.remove(existing);
  } catch (error) {
    // Nothing was removed: nor is the marker, which would refuse a retried create of a definition still alive.
    await deps.recurring.unmarkDeleted(existing.tenantId, id).catch((unmarkError: unknown) => {
      logger.warn('Could not remove the deletion marker of a recurring notification whose DELETE failed; a create retried with its key is refused (409)', {
        tenantId: existing.tenantId,
        recurringId: id,
        error: describeError(unmarkError),
      });
    });
    throw new ServiceUnavailableError('Could not reach the scheduler; nothing was removed, repeat the request', { cause: error });
  }
  await deps.recurring.remove(existing.tenantId, id);
  await deps.scheduler.remove(existing).catch((error: unknown) => {
    logger.warn('Could not delete the schedule of a deleted recurring notification a second time', { tenantId: existing.tenantId, recurringId: id, error: describeError(error) });
  });
}

/** How often an occurrence reads its named recipients before it gives up on erasures racing it (then its message's retry). */
const occurrenceReads = 3;

export interface OccurrenceDeps {
  readonly recurring: RecurringStore;
  readonly notifications: NotificationDeps;
  readonly broadcasts: BroadcastDeps;
  readonly clock: Clock;
  /**
   * Where an occurrence records the ids it is about to create, so that the worker that takes it
   * over after one died mid-create (its claim's lease ran out) creates the same ones.
   * @default none: that worker creates a second set
   */
  readonly createRecords?: CreateRecords;
}

/**
 * The key an occurrence's create is recorded under: one per definition, instant and kind (a
 * definition patched from recipients to an audience between two attempts makes a broadcast then).
 * Its fingerprint says nothing more: what an occurrence creates is the definition's, read anew.
 */
function occurrenceKey(tenantId: string, recurringId: string, at: string, kind: 'notifications' | 'broadcast'): CreateKey {
  return { key: JSON.stringify([tenantId, 'occurrence', recurringId, at, kind]), fingerprint: 'occurrence' };
}

/** What became of an occurrence: done (created, or nothing to do), or to be looked at again. */
export type OccurrenceOutcome = { readonly kind: 'done'; readonly note: string } | { readonly kind: 'later'; readonly seconds: number; readonly reason: string };

/**
 * Runs the occurrence at `at` (ISO-8601) of a recurring notification: nothing when it is gone or
 * paused, or when this occurrence was created before; else one notification per recipient (linked
 * by `recurringId`), or one broadcast, created now, as the definition's creator.
 */
export async function runOccurrence(deps: OccurrenceDeps, tenantId: string, recurringId: string, at: string): Promise<OccurrenceOutcome> {
  const recurring = await deps.recurring.get(tenantId, recurringId);
  if (!recurring) return { kind: 'done', note: 'ended' };
  if (recurring.status === 'paused') return { kind: 'done', note: 'paused' };
  const instant = new Date(at).toISOString();
  const claim = await deps.recurring.claimOccurrence(tenantId, recurringId, instant, deps.clock.now());
  if (claim === 'done') return { kind: 'done', note: 'already created' };
  if (claim === 'busy') return { kind: 'later', seconds: 30, reason: 'another worker is creating this occurrence' };
  const caller: Caller = { sub: recurring.createdBy, tenantId, roles: [...recurring.createdByRoles] };
  const content = {
    title: recurring.title,
    message: recurring.message,
    ...(recurring.channels ? { channels: [...recurring.channels] } : {}),
    type: recurring.type,
    priority: recurring.priority,
    ...(recurring.data ? { data: recurring.data } : {}),
  };
  // Named recipients were registered when the definition was made: those erased since are left
  // out of this occurrence (and named on it), so that the others still get theirs. One erased
  // between this read and the create refuses the create (404): read again and create without it.
  const named = recurring.recipients ?? (recurring.audience?.kind === 'recipients' ? (recurring.audienceIds ?? []) : undefined);
  for (let attempt = 1; ; attempt++) {
    const registered = named ? new Set((await deps.notifications.recipients.getMany(tenantId, named)).map((r) => r.id)) : undefined;
    const present = named?.filter((id) => registered?.has(id));
    const skipped = named?.filter((id) => !registered?.has(id)) ?? [];
    // Only the create is tried again: its check refuses before it writes anything.
    let created: { readonly notificationIds?: readonly string[]; readonly broadcastId?: string };
    try {
      if (present?.length === 0) created = {};
      else if (recurring.recipients && present) {
        const idempotency = deps.createRecords ? occurrenceKey(tenantId, recurringId, instant, 'notifications') : undefined;
        const scheduled = await scheduleNotifications({ ...deps.notifications, createRecords: deps.createRecords }, caller, { recipients: present, ...content }, { recurringId, idempotency });
        created = { notificationIds: scheduled.notificationIds };
      } else {
        const audience =
          recurring.audience?.kind === 'groups' ? { groups: [...recurring.audience.groups] } : present ? { recipientIds: present } : { all: true as const };
        const idempotency = deps.createRecords ? occurrenceKey(tenantId, recurringId, instant, 'broadcast') : undefined;
        created = { broadcastId: (await createBroadcast({ ...deps.broadcasts, createRecords: deps.createRecords }, caller, { audience, ...content, draft: false }, { idempotency })).broadcastId };
      }
    } catch (error) {
      if (named && error instanceof NotFoundError && attempt < occurrenceReads) continue;
      throw error;
    }
    await deps.recurring.recordOccurrence(tenantId, recurringId, { at: instant, ...(skipped.length > 0 ? { skippedRecipients: skipped } : {}), ...created });
    if (skipped.length > 0) logger.warn('Recurring occurrence leaves out erased recipients', { tenantId, recurringId, at: instant, skippedRecipients: skipped });
    break;
  }
  logger.info('Recurring occurrence created', { tenantId, recurringId, at: instant });
  return { kind: 'done', note: 'created' };
}
