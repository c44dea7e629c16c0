/**
 * Prefixed, sortable identifiers (`ntf_01J...`): they read well in logs, sort by creation
 * time, and fit an EventBridge schedule name (at most 64 of `[0-9a-zA-Z-_.]`).
 */
import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** A new notification id. */
export function newNotificationId(now: Date): string {
  return `ntf_${nextUlid(now.getTime())}`;
}

/** Pattern of a notification id, for validating path parameters. */
export const notificationIdPattern = /^ntf_[0-9A-HJKMNP-TV-Z]{26}$/;
