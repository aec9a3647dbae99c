import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { BaseServiceConfig } from '../config';
import { sendApiError, type ErrorResponse } from '../api-errors';
import { TooManyRequestsError, UnavailableError } from '../domain-errors';
import { Metrics, type Counter } from '../metrics';
import { SERVICE_CONFIG } from '../service-config';
import { FixedWindowCounter, type WindowCount } from './fixed-window';

/** The parts of an express request and response that admission reads and writes. */
export interface AdmittedRequest {
  method: string;
  url: string;
  ip?: string;
  socket?: { remoteAddress?: string };
}
export interface AdmittedResponse extends ErrorResponse {
  getHeader(name: string): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/** Liveness, readiness and metrics: never shed or limited, so an overloaded process still answers its probes. */
const EXEMPT_PATHS = new Set(['/health', '/ready', '/metrics']);
/** How often the event loop's lag is sampled (a timer's delay past its due time). */
const LAG_SAMPLE_MS = 100;
/**
 * Weight of the newest lag sample in the smoothed lag. Under overload the loop alternates between
 * a long turn (everything admitted) and a short one (everything shed): the last sample alone
 * would admit every other turn, the smoothed lag keeps shedding until the turns stay short.
 */
const LAG_SMOOTHING = 0.3;
/**
 * Lag sheds only while at least this many requests are in progress: a process that is slow
 * because other processes take the CPU (a shared CI machine) but has little work of its own
 * would only turn slow answers into failed ones.
 */
const LAG_SHED_MIN_IN_FLIGHT = 8;
/** Answer to a shed request: a second is enough for an in-flight request to finish. */
const SHED_RETRY_AFTER_SECONDS = 1;
/** Lockouts of more addresses than this are swept of expired ones. */
const LOCKOUT_SWEEP_SIZE = 10_000;

/**
 * The client an address limit counts: the address itself, or for IPv6 its /64 (one host commonly
 * holds a whole /64, so counting single IPv6 addresses would limit nothing).
 */
export function clientKey(address: string): string {
  const plain = address.split('%')[0];
  if (!plain.includes(':')) return plain;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(plain)) return plain.slice(7);
  const [head, tail] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Abuse protection every service gets (issue 15; ADR "rate limits and load shedding"): per
 * process and in memory.
 *
 * - Admission (express middleware, before the body is read): 503 + Retry-After when more than
 *   SHED_MAX_IN_FLIGHT requests are in progress or the event loop lags more than
 *   SHED_EVENT_LOOP_LAG_MS; 429 when an address used up RATE_LIMIT_PER_ADDRESS. /health, /ready
 *   and /metrics are exempt.
 * - Per key (the guards, once a key is known): RATE_LIMIT_PER_KEY per write key or API key.
 * - Failed authentications: AUTH_FAILURE_LIMIT unknown keys from one address within
 *   AUTH_FAILURE_WINDOW_SECONDS lock it out for AUTH_LOCKOUT_SECONDS (429).
 *
 * Each answer within a limit carries RateLimit-Limit, -Remaining, -Reset and -Policy
 * (draft-ietf-httpapi-ratelimit-headers-06) for the policy closest to exhaustion.
 */
@Injectable()
export class TrafficControl implements OnModuleInit, OnModuleDestroy {
  private readonly perAddress?: FixedWindowCounter;
  private readonly perKey?: FixedWindowCounter;
  private readonly authFailures?: FixedWindowCounter;
  private readonly lockouts = new Map<string, number>();
  private readonly maxInFlight: number;
  private readonly maxLagMs: number;
  private inFlight = 0;
  private lagMs = 0;
  private smoothedLagMs = 0;
  private lagTimer?: NodeJS.Timeout;
  private readonly limited: Counter;
  private readonly shed: Counter;
  private readonly failures: Counter;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
    metrics: Metrics,
  ) {
    const window = config.RATE_LIMIT_WINDOW_SECONDS;
    if (config.RATE_LIMIT_PER_ADDRESS > 0) this.perAddress = new FixedWindowCounter(config.RATE_LIMIT_PER_ADDRESS, window);
    if (config.RATE_LIMIT_PER_KEY > 0) this.perKey = new FixedWindowCounter(config.RATE_LIMIT_PER_KEY, window);
    if (config.AUTH_FAILURE_LIMIT > 0) this.authFailures = new FixedWindowCounter(config.AUTH_FAILURE_LIMIT, config.AUTH_FAILURE_WINDOW_SECONDS);
    this.maxInFlight = config.SHED_MAX_IN_FLIGHT;
    this.maxLagMs = config.SHED_EVENT_LOOP_LAG_MS;
    this.limited = metrics.counter('segmenta_http_rate_limited_total', 'Requests answered 429, by the limit they hit (address, key, auth_lockout).');
    this.shed = metrics.counter('segmenta_http_shed_total', 'Requests answered 503 by load shedding, by reason (in_flight, event_loop_lag).');
    this.failures = metrics.counter('segmenta_auth_failures_total', 'Unknown keys presented (write keys, API keys, a wrong ADMIN_API_KEY).');
  }

  onModuleInit(): void {
    if (this.maxLagMs <= 0) return;
    let last = performance.now();
    this.lagTimer = setInterval(() => {
      const now = performance.now();
      this.lagMs = Math.max(0, now - last - LAG_SAMPLE_MS);
      this.smoothedLagMs = LAG_SMOOTHING * this.lagMs + (1 - LAG_SMOOTHING) * this.smoothedLagMs;
      last = now;
    }, LAG_SAMPLE_MS);
    this.lagTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.lagTimer);
  }

  /** The express middleware that admits a request or answers 503/429 before anything else runs. */
  middleware(): (request: AdmittedRequest, response: AdmittedResponse, next: () => void) => void {
    return (request, response, next) => {
      if (this.isExempt(request)) return next();
      const shed = this.shedReason();
      if (shed) {
        this.shed.inc(`{reason="${shed}"}`);
        const message =
          shed === 'in_flight'
            ? `The service is overloaded (${this.inFlight} requests in progress); retry in ${SHED_RETRY_AFTER_SECONDS} s`
            : `The service is overloaded (event loop ${Math.round(Math.max(this.lagMs, this.smoothedLagMs))} ms behind); retry in ${SHED_RETRY_AFTER_SECONDS} s`;
        // Closing the connection makes a client that retries at once reconnect first: its next
        // request waits in the kernel's accept queue instead of costing this loop another answer.
        response.setHeader('Connection', 'close');
        sendApiError(response, new UnavailableError(message, [], { retryAfterSeconds: SHED_RETRY_AFTER_SECONDS }));
        return;
      }
      if (this.perAddress) {
        const count = this.perAddress.hit(clientKey(this.addressOf(request)));
        this.setHeaders(response, count);
        if (count.exceeded) {
          this.limited.inc('{limit="address"}');
          // As when shedding: a flooding client reconnects before its next try.
          response.setHeader('Connection', 'close');
          sendApiError(response, this.limitReached('address', 'this address', count));
          return;
        }
      }
      this.inFlight += 1;
      response.once('close', () => (this.inFlight -= 1));
      next();
    };
  }

  /** The client's address: the TCP peer, or what X-Forwarded-For says when TRUST_PROXY trusts the proxy. */
  addressOf(request: AdmittedRequest): string {
    return request.ip ?? request.socket?.remoteAddress ?? 'unknown';
  }

  /** Counts one request of an authenticated key (`source:<id>`, `api-key:<id>`); 429 past RATE_LIMIT_PER_KEY. */
  consumeKey(key: string, response: AdmittedResponse): void {
    if (!this.perKey) return;
    const count = this.perKey.hit(key);
    this.setHeaders(response, count);
    if (count.exceeded) {
      this.limited.inc('{limit="key"}');
      throw this.limitReached('authorization', 'this key', count);
    }
  }

  /** Seconds the address is still locked out after failed authentications (0: it is not). */
  lockedOutSeconds(address: string): number {
    if (this.lockouts.size === 0) return 0;
    const key = clientKey(address);
    const until = this.lockouts.get(key);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left > 0) return Math.ceil(left / 1000);
    this.lockouts.delete(key);
    return 0;
  }

  /** 429 while the address is locked out: checked before a key is looked at, so guessing learns nothing. */
  assertNotLockedOut(address: string): void {
    const seconds = this.lockedOutSeconds(address);
    if (seconds > 0) throw this.lockedOut(seconds);
  }

  /** The lockout answer (counted); for callers that decide themselves when it applies (write keys). */
  lockedOut(seconds: number): TooManyRequestsError {
    this.limited.inc('{limit="auth_lockout"}');
    return new TooManyRequestsError(
      `Too many failed authentications from this address; retry in ${seconds} s`,
      [{ field: 'authorization', problem: `locked out after ${this.config.AUTH_FAILURE_LIMIT} unknown keys within ${this.config.AUTH_FAILURE_WINDOW_SECONDS} s` }],
      { retryAfterSeconds: seconds },
    );
  }

  /** Counts an unknown key presented from the address; at AUTH_FAILURE_LIMIT the address is locked out. */
  authenticationFailed(address: string): void {
    this.failures.inc();
    if (!this.authFailures) return;
    const key = clientKey(address);
    if (this.authFailures.hit(key).count < this.authFailures.limit) return;
    const now = Date.now();
    if (this.lockouts.size >= LOCKOUT_SWEEP_SIZE) for (const [locked, until] of this.lockouts) if (until <= now) this.lockouts.delete(locked);
    this.lockouts.set(key, now + this.config.AUTH_LOCKOUT_SECONDS * 1000);
  }

  private isExempt(request: AdmittedRequest): boolean {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const query = request.url.indexOf('?');
    return EXEMPT_PATHS.has(query < 0 ? request.url : request.url.slice(0, query));
  }

  private shedReason(): 'in_flight' | 'event_loop_lag' | undefined {
    if (this.maxInFlight > 0 && this.inFlight >= this.maxInFlight) return 'in_flight';
    if (this.maxLagMs > 0 && this.inFlight >= LAG_SHED_MIN_IN_FLIGHT && Math.max(this.lagMs, this.smoothedLagMs) > this.maxLagMs) return 'event_loop_lag';
    return undefined;
  }

  private limitReached(field: string, what: string, count: WindowCount): TooManyRequestsError {
    return new TooManyRequestsError(
      `Rate limit of ${count.limit} requests per ${count.windowSeconds} s for ${what} reached; retry in ${count.resetSeconds} s`,
      [{ field, problem: `more than ${count.limit} requests per ${count.windowSeconds} s` }],
      { retryAfterSeconds: count.resetSeconds },
    );
  }

  /** The RateLimit headers of the policy with the fewest requests left (address or key). */
  private setHeaders(response: AdmittedResponse, count: WindowCount): void {
    const current = response.getHeader('RateLimit-Remaining');
    if (current !== undefined && Number(current) < count.remaining) return;
    response.setHeader('RateLimit-Limit', String(count.limit));
    response.setHeader('RateLimit-Remaining', String(count.remaining));
    response.setHeader('RateLimit-Reset', String(count.resetSeconds));
    response.setHeader('RateLimit-Policy', `${count.limit};w=${count.windowSeconds}`);
  }
}
