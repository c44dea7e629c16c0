/**
 * Routes compatible with the Celery-based scheduler that Herald replaces (`/api/notifications/...`):
 * thin aliases over the use cases of `/v1/notifications` that speak that scheduler's words
 * (snake_case, its status names, 400 for a notification that is no longer pending), so that its
 * clients only change their base URL and token. Errors keep Herald's shape.
 */
import { once } from '../../../shared/config.ts';
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { recipientStore, tenantSettingsStore } from '../../../shared/adapters/dependencies/directory.ts';
import { createRecords, idempotencyStore } from '../../../shared/adapters/dependencies/idempotency.ts';
import { deliveryScheduler } from '../../../shared/adapters/dependencies/notification-queue.ts';
import { notificationStore } from '../../../shared/adapters/dependencies/notifications.ts';
import { selfSendLimits } from '../../../shared/adapters/dependencies/self-send.ts';
import { toCeleryScheduleStatus } from '../../../shared/domain/celery-scheduler.ts';
import { celeryScheduleBodySchema, notificationIdSchema } from '../../../shared/domain/schemas.ts';
import { ConflictError, NotFoundError, NotPendingError, ValidationError } from '../../../shared/errors.ts';
import { idempotencyKeyOf, idempotent } from '../../../shared/http/idempotency.ts';
import { callerFrom, json, parseBody } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { cancelNotification, checkScheduleNotifications, getNotification, scheduleNotifications } from '../../../shared/use-cases/notifications.ts';
import type { NotificationDeps } from '../../../shared/use-cases/notifications.ts';

const deps = once(
  (): NotificationDeps => ({
    notifications: notificationStore(),
    recipients: recipientStore(),
    scheduler: deliveryScheduler(),
    clock: systemClock,
    selfSend: selfSendLimits(),
    tenantSettings: tenantSettingsStore(),
    createRecords: createRecords(),
  }),
);

/** The use cases name Herald's fields; these routes' callers sent the Celery scheduler's. */
const celeryFieldNames: Readonly<Record<string, string>> = { scheduledAt: 'scheduled_at' };

function inCeleryTerms(error: unknown): unknown {
  if (!(error instanceof ValidationError) || !Array.isArray(error.details)) return error;
  const rename = (text: string): string => text.replace(/\b(scheduledAt)\b/g, (field) => celeryFieldNames[field] ?? field);
  const details: unknown[] = error.details.map((detail: unknown) =>
    typeof detail === 'object' && detail !== null && 'field' in detail && typeof detail.field === 'string'
      ? { ...detail, field: rename(detail.field), ...('message' in detail && typeof detail.message === 'string' ? { message: rename(detail.message) } : {}) }
      : detail,
  );
  return new ValidationError(rename(error.message), { details, cause: error });
}

/**
 * The `{id}` of these routes. An id that is not a Herald id (the Celery scheduler's were numbers)
 * names nothing here: 404, not the 400 of `/v1/...`, since these clients read a 400 as "no longer
 * pending".
 */
function notificationIdOf(event: HttpEvent): string {
  const parsed = notificationIdSchema.safeParse(event.pathParameters?.id);
  // Not echoed: a path segment can be anything of up to ~10 KB, and it names no notification.
  if (!parsed.success) throw new NotFoundError("Notification not found: the id is not a Herald notification id (ntf_…), and the Celery scheduler's numeric ids name nothing here");
  return parsed.data;
}

/** `POST /api/notifications/schedule/` (honours `Idempotency-Key`): `POST /v1/notifications` in the scheduler's words. */
export const celeryScheduleRoute = idempotent(async (event: HttpEvent): Promise<HttpResult> => {
  const caller = callerFrom(event);
  const body = parseBody(event, celeryScheduleBodySchema);
  const scheduled = await scheduleNotifications(deps(), caller, body, { idempotency: idempotencyKeyOf(event) }).catch((error: unknown) => {
    throw inCeleryTerms(error);
  });
  // In the route's own snake_case, as every other field it answers.
  const adjusted = (scheduled.schedule ?? []).flatMap(({ notificationId, adjusted: a }) =>
    a ? [{ notification_id: notificationId, kind: a.kind, requested_local: a.requestedLocal, resolved_local: a.resolvedLocal, ...(a.kind === 'gap' ? { shift_minutes: a.shiftMinutes } : {}) }] : [],
  );
  // Each notification's own time, when the request named a zone: with `timezone: "recipient"`
  // they differ, and `scheduled_at` is only the earliest.
  const schedule = scheduled.schedule?.map((t) => ({
    notification_id: t.notificationId,
    recipient_id: t.recipientId,
    scheduled_at: t.scheduledAt,
    timezone: t.timezone,
    local_scheduled_at: t.localScheduledAt,
  }));
  return json(201, {
    notification_ids: scheduled.notificationIds,
    count: scheduled.count,
    scheduled_at: scheduled.scheduledAt,
    ...(schedule ? { schedule } : {}),
    ...(adjusted.length > 0 ? { adjusted } : {}),
  });
}, idempotencyStore, {
  precheck: async (event) => {
    const body = parseBody(event, celeryScheduleBodySchema);
    await checkScheduleNotifications(deps(), callerFrom(event), body).catch((error: unknown) => {
      throw inCeleryTerms(error);
    });
  },
});

/** `DELETE /api/notifications/{id}/cancel_scheduled/`: 400 when it is no longer pending. */
export async function celeryCancelScheduledRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = notificationIdOf(event);
  const cancelled = await cancelNotification(deps(), caller, id).catch((error: unknown) => {
    throw error instanceof ConflictError ? new NotPendingError(error.message, { details: error.details, cause: error }) : error;
  });
  return json(200, { message: 'Notification cancelled successfully', notification_id: cancelled.id });
}

/** `GET /api/notifications/{id}/schedule_status/` */
export async function celeryScheduleStatusRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = notificationIdOf(event);
  return json(200, toCeleryScheduleStatus(await getNotification(deps(), caller, id)));
}
