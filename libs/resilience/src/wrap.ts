import { INVOKE_FN, Policy, type Call, type Step } from './policy.js';

/** The `Alt` (fallback result type) of a policy. */
export type AlternativeOf<P> = P extends Policy<infer A> ? A : never;

class PolicyStep implements Step {
  constructor(
    private readonly policy: Policy<unknown>,
    private readonly next: Step,
  ) {}

  invoke(call: Call): unknown {
    return this.policy.run(call, this.next);
  }
}

function chain(policies: readonly Policy<unknown>[], last: Step): Step {
  let step = last;
  for (let i = policies.length - 1; i >= 0; i--) step = new PolicyStep(policies[i]!, step);
  return step;
}

/**
 * Policies run as one, the first outermost. The chain is built once, so a call through it
 * allocates nothing for the composition itself.
 */
export class PolicyPipeline<Alt = never> extends Policy<Alt> {
  /** The policies, outermost first, nested pipelines flattened. */
  readonly policies: readonly Policy<unknown>[];
  private readonly head: Step;

  constructor(policies: readonly Policy<unknown>[]) {
    super();
    this.policies = policies.flatMap((policy) => (policy instanceof PolicyPipeline ? policy.policies : [policy]));
    this.head = chain(this.policies, INVOKE_FN);
  }

  /** @internal */
  run(call: Call, next: Step): Promise<unknown> {
    // `wrap` flattens pipelines, so `next` is the function itself unless someone calls `run` directly.
    const head = next === INVOKE_FN ? this.head : chain(this.policies, next);
    try {
      return Promise.resolve(head.invoke(call));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * Composes policies, `a` outermost: `wrap(retry, breaker, timeout).execute(fn)` retries calls
 * that go through the breaker, each attempt under its own timeout.
 */
export function wrap<const P extends readonly Policy<unknown>[]>(...policies: P): PolicyPipeline<AlternativeOf<P[number]>> {
  return new PolicyPipeline(policies);
}
