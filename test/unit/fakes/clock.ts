/** A clock the test moves by hand. */
import type { Clock } from '../../../shared/ports.ts';

export class FakeClock implements Clock {
  private current: Date;

  constructor(start: Date | string = '2030-01-01T12:00:00.000Z') {
    this.current = new Date(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Moves the clock to `instant`. */
  set(instant: Date | string): void {
    this.current = new Date(instant);
  }

  /** Moves the clock forward by `seconds`. */
  advanceSeconds(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}
