import { describe, expect, it } from 'vitest';
import { latenessMs, latenessSeries, percentile } from '../../../console/lateness.js';

const at = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

describe('delivery lateness in the console', () => {
  it('measures a notification from its scheduled time to its first channel that reached the recipient', () => {
    const scheduledAt = '2030-01-01T00:00:00.000Z';
    const lateness = latenessMs({
      scheduledAt,
      deliveries: {
        email: { status: 'sent', at: at(scheduledAt, 900) },
        inbox: { status: 'sent', at: at(scheduledAt, 120) },
        websocket: { status: 'skipped', at: at(scheduledAt, 5) },
      },
    });
    expect(lateness).toBe(120);
  });

  it('has no lateness for a notification no channel reached yet', () => {
    expect(latenessMs({ scheduledAt: '2030-01-01T00:00:00.000Z', deliveries: { email: { status: 'failed', at: '2030-01-01T00:00:01.000Z' } } })).toBeUndefined();
    expect(latenessMs({ scheduledAt: '2030-01-01T00:00:00.000Z' })).toBeUndefined();
  });

  it('takes percentiles by nearest rank', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });

  it('buckets notifications by scheduled time, each slice with its own p50 and p99, leaving empty slices out', () => {
    const start = '2030-01-01T00:00:00.000Z';
    const early = Array.from({ length: 10 }, (_, i) => ({ scheduledAt: at(start, i), deliveries: { inbox: { status: 'sent', at: at(start, i + 10 + i) } } }));
    const late = [{ scheduledAt: at(start, 60_000), deliveries: { inbox: { status: 'sent', at: at(start, 65_000) } } }];
    const series = latenessSeries([...early, ...late], 4);
    expect(series.map((s) => s.count)).toEqual([10, 1]);
    expect(series[0]).toMatchObject({ p50: 14, p99: 19 });
    expect(series[1]).toMatchObject({ p50: 5000, p99: 5000 });
    expect(latenessSeries([])).toEqual([]);
  });
});
