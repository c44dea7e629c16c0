/**
 * Prefixed, sortable identifiers (`ntf_01J...`): they read well in logs, sort by creation
 * time, and fit an EventBridge schedule name (at most 64 of `[0-9a-zA-Z-_.]`).
 */
import { encodeTime, monotonicFactory } from 'ulid';

let monotonic: ((seedTime: number) => string) | undefined;

/**
 * The next ULID for `timeMs`, monotonic within this process. The factory is made on first use,
 * so a bundle that makes no id leaves the ulid package out (a module-level call would keep it).
 */
function nextUlid(timeMs: number): string {
  monotonic ??= monotonicFactory();
  return monotonic(timeMs);
}

/** A new notification id. */
export function newNotificationId(now: Date): string {
  return `ntf_${nextUlid(now.getTime())}`;
}

/** Pattern of a notification id, for validating path parameters. */
export const notificationIdPattern = /^ntf_[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * The smallest (`first`) or largest (`last`) notification id that could have been created at
 * `at`: ids sort by creation time, so a creation-time range is a range of ids.
 */
export function notificationIdBound(at: Date, edge: 'first' | 'last'): string {
  const time = encodeTime(Math.min(Math.max(0, at.getTime()), 2 ** 48 - 1), 10);
  return `ntf_${time}${(edge === 'first' ? '0' : 'Z').repeat(16)}`;
}

/** A new broadcast id (`brd_...`); it is also the id of the inbox item each recipient gets. */
export function newBroadcastId(now: Date): string {
  return `brd_${nextUlid(now.getTime())}`;
}

/** Pattern of a broadcast id, for validating path parameters. */
export const broadcastIdPattern = /^brd_[0-9A-HJKMNP-TV-Z]{26}$/;

/** The smallest or largest broadcast id that could have been created at `at` (see notificationIdBound). */
export function broadcastIdBound(at: Date, edge: 'first' | 'last'): string {
  return `brd_${notificationIdBound(at, edge).slice('ntf_'.length)}`;
}

/** A new recurring notification id (`rec_...`); `r-<id>` names its schedule. */
export function newRecurringId(now: Date): string {
  return `rec_${nextUlid(now.getTime())}`;
}

/** Pattern of a recurring notification id. */
export const recurringIdPattern = /^rec_[0-9A-HJKMNP-TV-Z]{26}$/;
