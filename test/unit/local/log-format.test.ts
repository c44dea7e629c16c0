import { describe, expect, it } from 'vitest';
import { chooseLogFormat, formatLogLine, prettyLineWriter } from '../../../local/log-format.ts';

const refused = JSON.stringify({
  level: 'INFO',
  message: 'Request refused',
  timestamp: '2030-01-01T12:00:01.234Z',
  service: 'herald',
  cold_start: true,
  function_arn: 'arn:aws:lambda:us-east-1:000000000000:function:herald-local-api',
  function_memory_size: '512',
  function_name: 'herald-local-api',
  function_request_id: 'a1',
  sampling_rate: 0,
  code: 'VALIDATION_ERROR',
  reason: 'title must be a string',
  routeKey: 'POST /v1/notifications',
});

describe('the local log format', () => {
  it('shows a JSON log line as one readable line: time, level, function, message, its own keys', () => {
    expect(formatLogLine(refused, 'herald-local-api')).toBe(
      '12:00:01.234 INFO  api  Request refused  code=VALIDATION_ERROR  reason="title must be a string"  routeKey="POST /v1/notifications"',
    );
  });

  it('shows an EMF document (metrics) as one line: its dimensions, a count summed, other values as their range', () => {
    // Prepare
    const emf = JSON.stringify({
      _aws: {
        Timestamp: Date.parse('2030-01-01T12:00:02.500Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'Herald',
            Dimensions: [['service', 'Channel']],
            Metrics: [
              { Name: 'Delivered', Unit: 'Count' },
              { Name: 'DeliveryLatenessMs', Unit: 'Milliseconds' },
              { Name: 'Retried', Unit: 'Count' },
            ],
          },
        ],
      },
      service: 'herald',
      Channel: 'inbox',
      Delivered: [1, 1, 1],
      DeliveryLatenessMs: [41, 12, 30],
      Retried: 2,
    });

    // Act
    const line = formatLogLine(emf, 'herald-local-deliver');

    // Assess
    expect(line).toBe('12:00:02.500 METRIC deliver  Channel=inbox  Delivered=3  DeliveryLatenessMs=12-41 ms (3)  Retried=2');
  });

  it('leaves a line that is not a JSON object as it is', () => {
    expect(formatLogLine('plain text {', 'herald-local-api')).toBe('plain text {');
    expect(formatLogLine('[1,2]', 'herald-local-api')).toBe('[1,2]');
  });

  it('waits for the end of a line split across writes', () => {
    // Prepare
    const written: string[] = [];
    const write = prettyLineWriter('herald-local-api', (text) => written.push(text));

    // Act
    write(refused.slice(0, 40));
    const afterHalf = written.length;
    write(`${refused.slice(40)}\nnext`);

    // Assess
    expect(afterHalf).toBe(0);
    expect(written).toEqual([`${formatLogLine(refused, 'herald-local-api')}\n`]);
  });

  it.each([
    [{ jsonFlag: false, variable: undefined, isTerminal: true }, 'pretty'],
    [{ jsonFlag: false, variable: undefined, isTerminal: false }, 'json'],
    [{ jsonFlag: true, variable: undefined, isTerminal: true }, 'json'],
    [{ jsonFlag: false, variable: 'json', isTerminal: true }, 'json'],
    [{ jsonFlag: false, variable: 'pretty', isTerminal: false }, 'pretty'],
  ] as const)('chooses %j → %s', (options, expected) => {
    expect(chooseLogFormat(options)).toBe(expected);
  });
});
