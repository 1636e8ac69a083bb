import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { OvhConsumerKeyRepository } from '../../../store/index.js';
import { ApiError } from '../../errors.js';

/**
 * OVH API authentication (https://help.ovhcloud.com/csm/en-api-getting-started-ovhcloud-api): an application
 * (key + secret) asks `POST /auth/credential` for a consumer key, the subscriber validates it by logging in at
 * the returned validationUrl, and every later request carries X-Ovh-Application, X-Ovh-Consumer,
 * X-Ovh-Timestamp and X-Ovh-Signature = "$1$" + SHA1_HEX(AS+"+"+CK+"+"+METHOD+"+"+QUERY+"+"+BODY+"+"+TSTAMP).
 *
 * Storage: the application secret must be known in clear to recompute the signature (it is a hash of it, not
 * of something derived), so it stays in the configuration (`api.ovhApplications`) like any server secret.
 * Consumer keys are random 32-character tokens kept only as their SHA-256 in the store (table ovh_consumer_keys),
 * so a restart keeps them and a dump does not give them away; they expire and are revocable (POST /auth/logout,
 * `repondeur ovh revoke`, or deleting the line).
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
  readonly #keys: OvhConsumerKeyRepository;
  readonly #clock: () => number;

  /** `keys` is the store's table of consumer key hashes: a restart keeps the keys, every node sees the same. */
  constructor(applications: readonly OvhApplication[], keys: OvhConsumerKeyRepository, clock: () => number) {
    this.#applications = new Map(applications.map((a) => [a.key, a]));
    this.#keys = keys;
    this.#clock = clock;
  }

  application(key: string | undefined): OvhApplication {
    const app = key === undefined ? undefined : this.#applications.get(key);
    if (app === undefined) throw new ApiError(403, 'Invalid application key', {}, { code: 'ovh_invalid_application' });
    return app;
  }

  /** POST /auth/credential: a new consumer key, pending until the subscriber validates it. */
  async request(applicationKey: string): Promise<{ consumerKey: string; validationToken: string }> {
    this.application(applicationKey);
    const consumerKey = alphanumericToken(32);
    const validationToken = randomBytes(24).toString('base64url');
    await this.#keys.insertPending({
      keyHash: sha256(consumerKey),
      validationTokenHash: sha256(validationToken),
      applicationKey,
      expiresAt: this.#clock() + PENDING_TTL_MS,
    });
    return { consumerKey, validationToken };
  }

  /** The subscriber of `line`, logged in, validates the consumer key behind `validationToken`. */
  async validate(validationToken: string, line: string): Promise<void> {
    // Looked up by its hash: an index lookup on a value the caller cannot steer towards a timing leak of the token.
    if (!(await this.#keys.validate(sha256(validationToken), line, this.#clock() + VALIDATED_TTL_MS))) {
      throw new ApiError(404, 'no pending credential for this validation token', {}, { code: 'ovh_unknown_credential' });
    }
  }

  /** An operator-issued consumer key, already validated for `line` (`repondeur ovh credential`). */
  async issue(applicationKey: string, line: string): Promise<string> {
    const { consumerKey, validationToken } = await this.request(applicationKey);
    await this.validate(validationToken, line);
    return consumerKey;
  }

  /** Forgets a consumer key; false when it was unknown. */
  revoke(consumerKey: string): Promise<boolean> {
    return this.#keys.revoke(sha256(consumerKey));
  }

  /** Checks the four X-Ovh-* headers of a request against the URL, body and our clock. */
  async verify(request: FastifyRequest, rawBody: string): Promise<OvhPrincipal> {
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
    const record = await this.#keys.find(sha256(consumerKey));
    if (record === undefined || record.applicationKey !== app.key) {
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

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * `length` random characters of [A-Za-z0-9], as OVH's own consumer keys are: no '-' or '_', so a key never reads as
 * an option when pasted on a command line (`repondeur ovh revoke <key>`). Rejection sampling keeps it uniform:
 * bytes ≥ 248 (4 × 62) are drawn again.
 */
export function alphanumericToken(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

/** An unguessable token for a download URL (telephony.PcsFile.url). */
export function newFileToken(): string {
  return randomBytes(24).toString('base64url');
}
