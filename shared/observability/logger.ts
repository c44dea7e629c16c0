/**
 * Structured JSON logs (Powertools Logger). Lines about a notification carry its id and
 * tenant: use `notificationLogger` for them.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'herald' });

/** A child logger whose every line names the notification and its tenant. */
export function notificationLogger(tenantId: string, notificationId: string): Logger {
  return logger.createChild({ persistentKeys: { tenantId, notificationId } });
}
