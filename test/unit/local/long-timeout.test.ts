/** The local stack's timer for schedules and rules: any horizon, and never before its instant. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLongTimeout } from '../../../local/long-timeout.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('setLongTimeout', () => {
  it('does not fire while Date.now() is short of its instant, however early the timer ends', async () => {
    // Prepare: once the timer is set, the clock reads 15 ms behind the timers' own time, as
    // Date.now() can when the event loop's cached time runs ahead of it
    const realNow = Date.now.bind(Date);
    const dueAt = realNow() + 20;
    const firedAt = new Promise<number>((resolve) => setLongTimeout(() => resolve(Date.now()), 20));
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 15);

    // Act
    const at = await firedAt;

    // Assess
    expect(at).toBeGreaterThanOrEqual(dueAt);
  });

  it('fires a delay of zero or less on a later turn, not during the call', async () => {
    // Prepare
    const fired: string[] = [];

    // Act
    const fires = new Promise<void>((resolve) =>
      setLongTimeout(() => {
        fired.push('timer');
        resolve();
      }, -5),
    );
    fired.push('after the call');
    await fires;

    // Assess
    expect(fired).toEqual(['after the call', 'timer']);
  });

  it('fires nothing once cancelled', async () => {
    // Prepare
    let fired = false;
    const timer = setLongTimeout(() => {
      fired = true;
    }, 5);

    // Act
    timer.cancel();
    await new Promise((resolve) => setTimeout(resolve, 30));

    // Assess
    expect(fired).toBe(false);
  });
});
