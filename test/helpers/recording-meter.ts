/**
 * A Temporal `MetricMeter` that keeps what is recorded on it, so a test can assert the
 * metrics a component reports without a Prometheus endpoint.
 */
import type {
  MetricCounter,
  MetricGauge,
  MetricHistogram,
  MetricMeter,
  MetricTags,
  MetricUpDownCounter,
  NumericMetricValueType,
} from '@temporalio/common';

/** One value recorded on a metric, with its tags (the metric's own and the call's). */
export interface RecordedValue {
  name: string;
  value: number;
  tags: MetricTags;
}

/** A {@link MetricMeter} with read-outs of what was recorded. */
export interface RecordingMeter extends MetricMeter {
  /** Sum of a counter's additions whose tags include `tags`. */
  counted(name: string, tags?: MetricTags): number;
  /** A histogram's recorded values, in order. */
  recorded(name: string): number[];
  /** The last value a gauge was set to, or undefined when it never was. */
  lastSet(name: string): number | undefined;
}

/** A new, empty {@link RecordingMeter}. */
export function recordingMeter(baseTags: MetricTags = {}): RecordingMeter {
  const values: Record<'counter' | 'histogram' | 'gauge', RecordedValue[]> = { counter: [], histogram: [], gauge: [] };
  const matches = (have: MetricTags, want: MetricTags) => Object.entries(want).every(([k, v]) => have[k] === v);

  const metric = <K extends 'counter' | 'histogram' | 'gauge'>(kind: K, name: string, valueType: NumericMetricValueType, tags: MetricTags) => {
    const push = (value: number, extra: MetricTags = {}) => values[kind].push({ name, value, tags: { ...tags, ...extra } });
    return { name, kind, valueType, push };
  };
  const counter = (name: string, tags: MetricTags): MetricCounter => {
    const m = metric('counter', name, 'int', tags);
    return { name, kind: 'counter', valueType: 'int', add: m.push, withTags: (t) => counter(name, { ...tags, ...t }) };
  };
  const histogram = (name: string, valueType: NumericMetricValueType, tags: MetricTags): MetricHistogram => {
    const m = metric('histogram', name, valueType, tags);
    return { name, kind: 'histogram', valueType, record: m.push, withTags: (t) => histogram(name, valueType, { ...tags, ...t }) };
  };
  const gauge = (name: string, valueType: NumericMetricValueType, tags: MetricTags): MetricGauge => {
    const m = metric('gauge', name, valueType, tags);
    return { name, kind: 'gauge', valueType, set: m.push, withTags: (t) => gauge(name, valueType, { ...tags, ...t }) };
  };

  const meter = (tags: MetricTags): RecordingMeter => ({
    createCounter: (name) => counter(name, tags),
    createHistogram: (name, valueType = 'int') => histogram(name, valueType, tags),
    createGauge: (name, valueType = 'int') => gauge(name, valueType, tags),
    createUpDownCounter(): MetricUpDownCounter {
      throw new Error('recordingMeter: up-down counters are not recorded');
    },
    withTags: (t) => meter({ ...tags, ...t }),
    counted: (name, want = {}) =>
      values.counter.filter((v) => v.name === name && matches(v.tags, want)).reduce((sum, v) => sum + v.value, 0),
    recorded: (name) => values.histogram.filter((v) => v.name === name).map((v) => v.value),
    lastSet: (name) => values.gauge.filter((v) => v.name === name).at(-1)?.value,
  });
  return meter(baseTags);
}
