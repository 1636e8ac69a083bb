import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../errors.js';

/**
 * OVH API authentication (https://help.ovhcloud.com/csm/en-api-getting-started-ovhcloud-api): an application
 * (key + secret) asks `POST /auth/credential` for a consumer key, the subscriber validates it by logging in at
 * the returned validationUrl, and every later request carries X-Ovh-Application, X-Ovh-Consumer,
 * X-Ovh-Timestamp and X-Ovh-Signature = "$1$" + SHA1_HEX(AS+"+"+CK+"+"+METHOD+"+"+QUERY+"+"+BODY+"+"+TSTAMP).
 *
 * Storage: the application secret must be known in clear to recompute the signature (it is a hash of it, not
 * of something derived), so it stays in the configuration (`api.ovhApplications`) like any server secret.
 * Consumer keys are random 32-character tokens kept only as their SHA-256, so a dump of the registry does not
 * give them away; they are revocable (DELETE /auth/currentCredential) and expire.
 */

/** Largest distance between the client's X-Ovh-Timestamp (corrected by its /auth/time drift) and ours. */
export const MAX_CLOCK_SKEW_SECONDS = 180;
/** A pending consumer key must be validated within this time (OVH's default validity of a request). */
const PENDING_TTL_MS = 15 * 60 * 1000;
const VALIDATED_TTL_MS = 365 * 24 * 3600 * 1000;

export interface OvhApplication {
  key: string;
  secret: string;
  name?: string;
}

interface ConsumerKeyRecord {
  applicationKey: string;
  /** Token of the validation URL (also hashed). */
  validationTokenHash: string;
  state: 'pendingValidation' | 'validated';
  line: string | null;
  expiresAt: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Who a verified OVH request acts for. */
export interface OvhPrincipal {
  applicationKey: string;
  line: string;
}

export class OvhCredentialRegistry {
  readonly #applications: ReadonlyMap<string, OvhApplication>;
  readonly #byConsumerHash = new Map<string, ConsumerKeyRecord>();
  readonly #clock: () => number;

  constructor(applications: readonly OvhApplication[], clock: () => number) {
    this.#applications = new Map(applications.map((a) => [a.key, a]));
    this.#clock = clock;
  }

  application(key: string | undefined): OvhApplication {
    const app = key === undefined ? undefined : this.#applications.get(key);
    if (app === undefined) throw new ApiError(403, 'Invalid application key', {}, { code: 'ovh_invalid_application' });
    return app;
  }

  /** POST /auth/credential: a new consumer key, pending until the subscriber validates it. */
  request(applicationKey: string): { consumerKey: string; validationToken: string } {
    this.application(applicationKey);
    const consumerKey = randomBytes(24).toString('base64url').slice(0, 32);
    const validationToken = randomBytes(24).toString('base64url');
    this.#byConsumerHash.set(sha256(consumerKey), {
      applicationKey,
      validationTokenHash: sha256(validationToken),
      state: 'pendingValidation',
      line: null,
      expiresAt: this.#clock() + PENDING_TTL_MS,
    });
    return { consumerKey, validationToken };
  }

  /** The subscriber of `line`, logged in, validates the consumer key behind `validationToken`. */
  validate(validationToken: string, line: string): void {
    const hash = sha256(validationToken);
    for (const record of this.#byConsumerHash.values()) {
      if (record.state === 'pendingValidation' && sameText(record.validationTokenHash, hash) && record.expiresAt > this.#clock()) {
        record.state = 'validated';
        record.line = line;
        record.expiresAt = this.#clock() + VALIDATED_TTL_MS;
        return;
      }
    }
    throw new ApiError(404, 'no pending credential for this validation token', {}, { code: 'ovh_unknown_credential' });
  }

  /** An operator-issued consumer key, already validated for `line` (`repondeur ovh credential`). */
  issue(applicationKey: string, line: string): string {
    const { consumerKey, validationToken } = this.request(applicationKey);
    this.validate(validationToken, line);
    return consumerKey;
  }

  revoke(consumerKey: string): void {
    this.#byConsumerHash.delete(sha256(consumerKey));
  }

  /** Checks the four X-Ovh-* headers of a request against the URL, body and our clock. */
  verify(request: FastifyRequest, rawBody: string): OvhPrincipal {
    const header = (name: string) => {
      const v = request.headers[name];
      return typeof v === 'string' ? v : undefined;
    };
    const app = this.application(header('x-ovh-application'));
    const consumerKey = header('x-ovh-consumer');
    const timestamp = header('x-ovh-timestamp');
    const signature = header('x-ovh-signature');
    if (consumerKey === undefined || timestamp === undefined || signature === undefined) {
      throw new ApiError(401, 'You must login first', {}, { code: 'ovh_not_authenticated' });
    }
    const record = this.#byConsumerHash.get(sha256(consumerKey));
    if (record === undefined || record.expiresAt <= this.#clock() || record.applicationKey !== app.key) {
      throw new ApiError(403, 'Invalid credential', {}, { code: 'ovh_invalid_credential' });
    }
    if (record.state !== 'validated' || record.line === null) {
      throw new ApiError(403, 'This credential is not valid', {}, { code: 'ovh_credential_not_validated' });
    }
    const seconds = Number(timestamp);
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(seconds - Math.round(this.#clock() / 1000)) > MAX_CLOCK_SKEW_SECONDS) {
      throw new ApiError(400, 'Timestamp too far from server time (GET /auth/time)', {}, { code: 'ovh_bad_timestamp' });
    }
    // The client signs "https://" + the Host it dialled (without port, as the official clients build it) + path.
    const host = (header('host') ?? '').replace(/:\d+$/, '');
    const url = `https://${host}${request.url}`;
    const expected = '$1$' + createHash('sha1').update([app.secret, consumerKey, request.method, url, rawBody, timestamp].join('+')).digest('hex');
    if (!sameText(expected, signature)) throw new ApiError(400, 'Invalid signature', {}, { code: 'ovh_invalid_signature' });
    return { applicationKey: app.key, line: record.line };
  }
}

/** An unguessable token for a download URL (telephony.PcsFile.url). */
export function newFileToken(): string {
  return randomBytes(24).toString('base64url');
}
