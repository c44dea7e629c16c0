import { describe, expect, it } from 'vitest';
import { latestScheduleMs } from '../../../../shared/domain/schedule-times.ts';

describe('latestScheduleMs', () => {
  it.each([
    ['2026-11-30T18:57:00.000Z', '2028-11-30T18:57:00.000Z'],
    ['2030-01-01T12:00:00.000Z', '2032-01-01T12:00:00.000Z'],
    ['2027-03-01T00:00:00.000Z', '2029-03-01T00:00:00.000Z'],
    ['2028-02-29T09:30:00.000Z', '2030-02-28T09:30:00.000Z'],
    ['2026-02-28T23:59:59.999Z', '2028-02-28T23:59:59.999Z'],
  ])('lets %s schedule up to two calendar years on in UTC: %s', (now, latest) => {
    // Act
    const ms = latestScheduleMs(new Date(now));

    // Assess
    expect(new Date(ms).toISOString()).toBe(latest);
  });
});
