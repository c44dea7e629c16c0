/**
 * How the Celery-based scheduler that Herald replaces named things: its `/api/notifications/...`
 * routes answer in these terms, so that its clients move to Herald by changing only the base URL
 * and the token.
 */
import type { Notification, NotificationStatus } from './notification.ts';

/** The states the Celery scheduler reported: it had no `sending`. */
export const celeryScheduledStatuses = ['pending', 'sent', 'cancelled', 'failed'] as const;
export type CeleryScheduledStatus = (typeof celeryScheduledStatuses)[number];

/** A notification being delivered right now has not been sent yet: it is still pending. */
export function toCeleryScheduledStatus(status: NotificationStatus): CeleryScheduledStatus {
  return status === 'sending' ? 'pending' : status;
}

/** What `GET /api/notifications/{id}/schedule_status/` answers. */
export interface CeleryScheduleStatus {
  readonly id: string;
  readonly title: string;
  readonly scheduled_at: string;
  readonly scheduled_status: CeleryScheduledStatus;
  readonly is_sent: boolean;
  readonly sent_at: string | null;
  readonly created_at: string;
}

/** A notification in the Celery scheduler's words. */
export function toCeleryScheduleStatus(n: Notification): CeleryScheduleStatus {
  return {
    id: n.id,
    title: n.title,
    scheduled_at: n.scheduledAt,
    scheduled_status: toCeleryScheduledStatus(n.status),
    is_sent: n.status === 'sent',
    sent_at: n.sentAt ?? null,
    created_at: n.createdAt,
  };
}
