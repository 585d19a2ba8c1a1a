/** Backoff and rate-limit primitives for the work queue and the informers. */

/** How a retry delay grows: baseMs, 2x, 4x ... capped at maxMs, each delay spread by +-jitter (a fraction, 0..1). */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  jitter?: number;
}

/**
 * Delay before retry number `attempt` (0 = the first retry): min(maxMs, baseMs * 2^attempt), then multiplied by a
 * random factor in [1 - jitter, 1 + jitter) and capped at maxMs again. Pure given `random` (values in [0, 1)).
 */
export function backoffDelayMs(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(p.maxMs, p.baseMs * 2 ** Math.min(Math.max(0, attempt), 40));
  const jitter = p.jitter ?? 0;
  const factor = jitter > 0 ? 1 + (random() * 2 - 1) * jitter : 1;
  return Math.max(0, Math.round(Math.min(p.maxMs, base * factor)));
}

/** Exponential backoff with +-20% jitter: initial, 2x, 4x ... capped at max. */
export class Backoff {
  attempts = 0;
  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly jitter = 0.2,
  ) {}

  next(): number {
    return backoffDelayMs(this.attempts++, { baseMs: this.initialMs, maxMs: this.maxMs, jitter: this.jitter });
  }

  reset(): void {
    this.attempts = 0;
  }
}

/** Per-key exponential backoff: baseMs * 2^retries capped at maxMs, with optional jitter (none by default: deterministic). */
export class KeyedBackoff {
  private readonly failures = new Map<string, number>();
  constructor(
    readonly baseMs: number,
    readonly maxMs: number,
    readonly jitter = 0,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before the next retry of `key`, counting this retry. */
  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return backoffDelayMs(n, { baseMs: this.baseMs, maxMs: this.maxMs, jitter: this.jitter }, this.random);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

/**
 * Token bucket: `ratePerSecond` tokens refill continuously up to `burst`. `take()` resolves when a token is
 * available; waiters are served in order. `now` is injectable for tests.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0)) throw new Error(`rate limit: ratePerSecond must be > 0, got ${ratePerSecond}`);
    if (!(burst >= 1)) throw new Error(`rate limit: burst must be >= 1, got ${burst}`);
    this.tokens = burst;
    this.last = this.now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
  }

  /** Take a token now if one is available. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until a token is available (0 if one is). */
  waitTime(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  take(): Promise<void> {
    const p = this.chain.then(async () => {
      for (;;) {
        if (this.tryTake()) return;
        await new Promise((r) => setTimeout(r, Math.max(1, this.waitTime())));
      }
    });
    this.chain = p;
    return p;
  }
}
