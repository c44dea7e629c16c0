/**
 * The HTTP API's alarm on server errors: a route that keeps answering 5xx (a route group's module
 * that cannot load answers every request of its group 500, and the api function records no error
 * for it) reaches the alarm topic; a single 503 does not.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald } from './synth.ts';
import { prop, resourcesOfType } from './template-queries.ts';

describe("the HTTP API's server-error alarm", () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it('fires when the API answered 5xx in 3 of the last 5 minutes, and reads a minute without requests as no error', () => {
    // Act
    const alarms = resourcesOfType(herald.service, 'AWS::CloudWatch::Alarm').filter(([, alarm]) => prop(alarm, 'MetricName') === '5xx');
    const apis = resourcesOfType(herald.service, 'AWS::ApiGatewayV2::Api').filter(([, api]) => prop(api, 'ProtocolType') === 'HTTP');

    // Assess
    expect(alarms).toHaveLength(1);
    expect(apis).toHaveLength(1);
    const [[, alarm]] = alarms as [[string, Parameters<typeof prop>[0]]];
    expect({
      namespace: prop(alarm, 'Namespace'),
      dimensions: prop(alarm, 'Dimensions'),
      statistic: prop(alarm, 'Statistic'),
      period: prop(alarm, 'Period'),
      threshold: prop(alarm, 'Threshold'),
      comparison: prop(alarm, 'ComparisonOperator'),
      evaluationPeriods: prop(alarm, 'EvaluationPeriods'),
      datapointsToAlarm: prop(alarm, 'DatapointsToAlarm'),
      missingData: prop(alarm, 'TreatMissingData'),
    }).toEqual({
      namespace: 'AWS/ApiGateway',
      dimensions: [{ Name: 'ApiId', Value: { Ref: apis[0]?.[0] } }],
      statistic: 'Sum',
      period: 60,
      threshold: 0,
      comparison: 'GreaterThanThreshold',
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      missingData: 'notBreaching',
    });
    expect(prop(alarm, 'AlarmName')).toBe('herald-test-http-api-5xx');
  });
});
