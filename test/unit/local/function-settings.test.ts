/** The functions' settings checked before `npm start` starts the stack: each a function would refuse, named with its value. */
import { describe, expect, it } from 'vitest';
import { functionSettingsProblems } from '../../../local/function-settings.ts';

describe('functionSettingsProblems', () => {
  it('takes good settings and none at all, whatever the infrastructure variables the stack gives itself', () => {
    // Act + Assess
    expect(functionSettingsProblems({})).toEqual([]);
    expect(functionSettingsProblems({ HERALD_RETRY_BASE_SECONDS: '2', HERALD_RETRY_CAP_SECONDS: '10', HERALD_STUCK_AFTER_SECONDS: '10', HERALD_WEBHOOK_TARGETS: 'any' })).toEqual([]);
  });

  it.each([
    [{ HERALD_RETRY_MAX_RETRIES: '1.5' }, 'HERALD_RETRY_MAX_RETRIES="1.5" is not valid for the functions:'],
    [{ HERALD_RETRY_CAP_SECONDS: '100000' }, 'HERALD_RETRY_CAP_SECONDS="100000" is not valid for the functions:'],
    [{ HERALD_CLEANUP_MAX_ITEMS: '' }, 'HERALD_CLEANUP_MAX_ITEMS="" is not valid for the functions:'],
    [{ HERALD_WEBHOOK_TARGETS: 'everything' }, 'HERALD_WEBHOOK_TARGETS="everything" is not valid for the functions:'],
  ])('refuses %j, naming it and its value', (given, start) => {
    // Act
    const problems = functionSettingsProblems(given);

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]?.startsWith(start)).toBe(true);
  });
});
