/** The benchmarks' numeric options: a wrong one is named, with what it must be, before the usage line. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { numberListOption, numberOption, UsageError } from '../../../scripts/bench/format.ts';

const usage = 'npm run bench -- example [--runs 7]';

describe('numberOption', () => {
  it('reads decimal digits', () => {
    expect(numberOption('runs', '7', usage, { integer: true })).toBe(7);
    expect(numberOption('seconds', '2.5', usage)).toBe(2.5);
    expect(numberOption('seconds', '.5', usage)).toBe(0.5);
    expect(numberOption('seconds', '5.', usage)).toBe(5);
    expect(numberOption('burst', '300', usage, { integer: true, min: 100, multipleOf: 100 })).toBe(300);
  });

  it.each([
    ['0x10', 'a whole number of at least 1'],
    ['1e2', 'a whole number of at least 1'],
    ['', 'a whole number of at least 1'],
    ['0', 'a whole number of at least 1'],
    ['2.5', 'a whole number of at least 1'],
    [' 5', 'a whole number of at least 1'],
  ])('refuses %j for a whole number, naming the option and the rule', (value, rule) => {
    // Act
    const read = (): number => numberOption('runs', value, usage, { integer: true });

    // Assess: a UsageError (the bench exits 2 on it) whose message is the problem, then the usage line
    expect(read).toThrow(UsageError);
    expect(read).toThrow(`--runs must be ${rule}, not ${JSON.stringify(value)}\n${usage}`);
  });

  it('says every bound a value missed', () => {
    expect(() => numberOption('burst', '150', usage, { integer: true, min: 100, multipleOf: 100 })).toThrow(
      '--burst must be a whole number of at least 100 in multiples of 100, not "150"',
    );
    expect(() => numberOption('recipients', '1001', usage, { integer: true, max: 1000 })).toThrow(
      '--recipients must be a whole number of at least 1 and at most 1000, not "1001"',
    );
    expect(() => numberOption('seconds', '0', usage)).toThrow('--seconds must be a number above 0 in decimal digits, not "0"');
    expect(() => numberOption('seconds', '1e2', usage)).toThrow('--seconds must be a number above 0 in decimal digits, not "1e2"');
  });
});

describe('numberListOption', () => {
  it('reads each comma-separated value, and names the option of a wrong one', () => {
    expect(numberListOption('rates', '100, 200,300', usage)).toEqual([100, 200, 300]);
    expect(() => numberListOption('concurrency', '1,two', usage, { integer: true })).toThrow('--concurrency must be a whole number of at least 1, not "two"');
  });
});

describe('npm run bench', () => {
  it('exits 2 naming a wrong option, before starting anything', () => {
    // Act
    const root = resolve(import.meta.dirname, '../../..');
    const run = spawnSync(process.execPath, ['scripts/bench.ts', 'lateness', '--burst', '10'], { cwd: root, encoding: 'utf8', timeout: 60_000 });

    // Assess
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--burst must be a whole number of at least 100 in multiples of 100, not "10"');
    expect(run.stderr).toContain('npm run bench -- lateness [--spread 300] [--burst 1000]');
  });
});
