/**
 * The grammar of an EventBridge cron expression's six fields (`minutes hours day-of-month month
 * day-of-week year`), as EventBridge Scheduler checks them at CreateSchedule and UpdateSchedule:
 * each field's values and wildcards, `?` in exactly one of the two day fields, `#` alone in its
 * field. One reading of the rules for both sides: the recurring definitions refuse what the
 * Scheduler would (before anything is written), and the local Scheduler emulator refuses it as the
 * service does (local/schedule-expressions.ts).
 *
 * Source: "Cron expressions reference" (Amazon EventBridge User Guide), whose field table
 * {@link cronFieldTable} follows, and "Schedule types on EventBridge Scheduler".
 */

/** One field of the table: its values (numbers, and names counted from 1) and the wildcards it takes. */
interface CronFieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly wildcards: string;
  readonly names: readonly string[];
}

/** The "Cron expressions reference" table, in field order. */
const cronFieldTable: readonly CronFieldRule[] = [
  { name: 'Minutes', min: 0, max: 59, wildcards: ',-*/', names: [] },
  { name: 'Hours', min: 0, max: 23, wildcards: ',-*/', names: [] },
  { name: 'Day-of-month', min: 1, max: 31, wildcards: ',-*?/LW', names: [] },
  { name: 'Month', min: 1, max: 12, wildcards: ',-*/', names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'Day-of-week', min: 1, max: 7, wildcards: ',-*?L#', names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
  { name: 'Year', min: 1970, max: 2199, wildcards: ',-*/', names: [] },
];

/**
 * Why EventBridge would refuse the cron whose fields these are (the text inside `cron( )`, split
 * on single spaces), or `undefined` when every rule of the table holds. The reason names the field
 * and the part, and says what the field takes.
 */
export function eventBridgeCronProblem(fields: readonly string[]): string | undefined {
  if (fields.length !== 6 || fields.some((field) => field === '')) {
    return 'A cron expression has six fields separated by single spaces: minutes hours day-of-month month day-of-week year.';
  }
  for (const [index, rule] of cronFieldTable.entries()) {
    const problem = fieldProblem((fields[index] ?? '').toUpperCase(), rule);
    if (problem !== undefined) return problem;
  }
  const [, , dayOfMonth = '', , dayOfWeek = ''] = fields;
  // "You can't use * in both the Day-of-month and Day-of-week fields. If you use it in one, you must use ? in the other."
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) return 'Day-of-month and Day-of-week cannot both be specified: use ? in exactly one of them.';
  if (dayOfWeek.includes('#') && dayOfWeek.includes(',')) return 'With #, Day-of-week takes a single expression.';
  return undefined;
}

/** Why one (upper-cased) field breaks its rule, or `undefined`. */
function fieldProblem(field: string, rule: CronFieldRule): string | undefined {
  const takes = `${rule.name} takes ${rule.min}-${rule.max}${rule.names.length > 0 ? ` or ${rule.names[0]}-${rule.names.at(-1)}` : ''} and the wildcards ${[...rule.wildcards].join(' ')}`;
  // The first number or name out of the field's range: that is the reason, whatever else is wrong.
  let outOfRange: string | undefined;
  const value = (token: string): number | undefined => {
    const number = /^\d+$/.test(token) ? Number(token) : rule.names.indexOf(token) + 1 || undefined;
    if (number === undefined) return undefined;
    if (number < rule.min || number > rule.max) {
      outOfRange ??= token;
      return undefined;
    }
    return number;
  };
  const partProblem = (part: string): string | undefined => {
    const nth = /^(\w+)#(\d+)$/.exec(part);
    if (nth && rule.wildcards.includes('#')) {
      return value(nth[1] ?? '') === undefined || Number(nth[2]) < 1 || Number(nth[2]) > 5 ? `${rule.name} ${part} is not weekday#n with n 1-5.` : undefined;
    }
    const [base = '', step, extra] = part.split('/');
    if (step !== undefined && !rule.wildcards.includes('/')) return `${rule.name} ${part}: ${rule.name} takes no increment (/): ${takes}.`;
    if (extra !== undefined || (step !== undefined && !/^[1-9]\d*$/.test(step))) {
      return `${rule.name} ${part}: an increment is start/n with n a positive whole number.`;
    }
    if (base === '*' || (base === '?' && rule.wildcards.includes('?'))) return undefined;
    if (base === 'L' && rule.wildcards.includes('L')) return undefined;
    const suffixed = /^(\w+?)([LW])$/.exec(base);
    if (suffixed && rule.wildcards.includes(suffixed[2] ?? '') && value(suffixed[1] ?? '') !== undefined) return undefined;
    const bounds = base.split('-');
    if (bounds.length <= 2 && (bounds.length === 1 || rule.wildcards.includes('-')) && bounds.every((bound) => value(bound) !== undefined)) return undefined;
    return `${rule.name} ${part} is not valid: ${takes}.`;
  };
  for (const part of field.split(',')) {
    const problem = partProblem(part);
    if (outOfRange !== undefined) return `${rule.name} ${outOfRange} is out of range: ${takes}.`;
    if (problem !== undefined) return problem;
  }
  return undefined;
}
