/**
 * Fault injection into the order saga's activities, keyed by order id so other orders run
 * normally: the test sets a {@link Fault} for an order, and the instrumented activities
 * record every call of that order and fail where the fault says:
 * - `business`: the step throws a non-retryable `InjectedFailure` before running;
 * - `ambiguous`: the step commits, and its first attempt's reply is lost (a plain error),
 *   so the activity is retried.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Activities } from '../../activities/index.ts';

/** Where and how one order's saga fails. */
export interface Fault {
  step: keyof Activities;
  kind: 'business' | 'ambiguous';
}

type OrderScoped = (input: { orderId?: string; sagaId?: string }) => Promise<unknown>;

/** The faults set per order and the calls recorded per order. */
export class OrderFaults {
  readonly faults = new Map<string, Fault>();
  readonly calls = new Map<string, string[]>();

  /** Activity overrides (`StackOptions.activityOverrides`) for `names`, each the real one instrumented. */
  overrides(names: readonly (keyof Activities)[]): (real: Activities) => Partial<Activities> {
    return (real) => Object.fromEntries(names.map((name) => [name, this.#instrumented(real, name)])) as Partial<Activities>;
  }

  #instrumented(real: Activities, name: keyof Activities): OrderScoped {
    const run = real[name] as OrderScoped;
    return async (input) => {
      // Steps name their order by `orderId`, the points steps by the saga id `order-<orderId>`.
      const orderId = input.orderId ?? input.sagaId!.replace(/^order-/, '');
      this.calls.set(orderId, [...(this.calls.get(orderId) ?? []), name]);
      const fault = this.faults.get(orderId);
      if (fault?.step === name && fault.kind === 'business') {
        throw ApplicationFailure.nonRetryable(`injected failure at ${name}`, 'InjectedFailure');
      }
      const result = await run(input);
      if (fault?.step === name && fault.kind === 'ambiguous' && Context.current().info.attempt === 1) {
        throw new Error(`reply of ${name} lost after commit`);
      }
      return result;
    };
  }
}
