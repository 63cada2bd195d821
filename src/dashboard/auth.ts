import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../store/redis/keys.js';

/**
 * Who may use the dashboard. Two tokens: the admin token (read and replay) and an optional viewer token
 * (read only). A browser logs in with a token once and then carries a session cookie (HttpOnly,
 * SameSite=Strict, signed) naming a server-side session that expires; API clients may instead send
 * `Authorization: Bearer <token>` on every request.
 *
 * CSRF: every state-changing request made with the session cookie must carry the session's CSRF token
 * (form field `_csrf` or header `x-csrf-token`): an HMAC of the session id under the session's own random
 * secret, so it cannot be guessed or reused across sessions. Bearer requests are exempt: a browser never
 * attaches a bearer header on its own, so a forged cross-site request cannot carry one.
 */
export type Role = 'admin' | 'viewer';

export interface Session {
  id: string;
  role: Role;
  expiresAt: number;
  /** Keys the session's CSRF token; random per session and stored with it, for every dashboard process. */
  csrfSecret: string;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Constant-time comparison: both sides are hashed first, so lengths never differ and never leak. */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export interface TokenSettings {
  adminToken: string;
  viewerToken?: string;
}

/** The role a presented token grants, if any. Both tokens are always compared (no early exit). */
export function roleForToken(tokens: TokenSettings, given: string): Role | undefined {
  const admin = tokensEqual(given, tokens.adminToken);
  const viewer = tokens.viewerToken !== undefined && tokensEqual(given, tokens.viewerToken);
  if (admin) return 'admin';
  if (viewer) return 'viewer';
  return undefined;
}

/** `Authorization: Bearer <token>` → the token. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** What Redis keeps of a session, under a digest of its id: never the id itself nor a login token. */
interface StoredSession {
  role: Role;
  csrfSecret: string;
  expiresAt: number;
}

function parseStoredSession(text: string | null): StoredSession | undefined {
  if (text === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { role, csrfSecret, expiresAt } = (value ?? {}) as Partial<Record<keyof StoredSession, unknown>>;
  if (role !== 'admin' && role !== 'viewer') return undefined;
  if (typeof csrfSecret !== 'string' || csrfSecret === '' || typeof expiresAt !== 'number') return undefined;
  return { role, csrfSecret, expiresAt };
}

/**
 * Login sessions in Redis (`RedisKeys.dashboardSession`, TTL = the session's lifetime), so a restart or a
 * second dashboard process behind the same Redis prefix keeps everyone logged in. The expiry is also kept
 * in the record and checked against `now`, the dashboard's clock.
 */
export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async create(role: Role): Promise<Session> {
    const session: Session = {
      id: randomBytes(24).toString('base64url'),
      role,
      expiresAt: this.now() + this.ttlMs,
      csrfSecret: randomBytes(32).toString('base64url'),
    };
    const stored: StoredSession = { role, csrfSecret: session.csrfSecret, expiresAt: session.expiresAt };
    await this.redis.set(this.key(session.id), JSON.stringify(stored), 'PX', this.ttlMs);
    return session;
  }

  async get(id: string | undefined): Promise<Session | undefined> {
    if (id === undefined || id === '') return undefined;
    const key = this.key(id);
    const stored = parseStoredSession(await this.redis.get(key));
    if (stored === undefined) return undefined;
    if (stored.expiresAt <= this.now()) {
      await this.redis.del(key);
      return undefined;
    }
    return { id, ...stored };
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id !== undefined) await this.redis.del(this.key(id));
  }

  csrfToken(session: Session): string {
    return createHmac('sha256', session.csrfSecret).update(`csrf:${session.id}`).digest('base64url');
  }

  checkCsrf(session: Session, given: string | undefined): boolean {
    return given !== undefined && given !== '' && tokensEqual(given, this.csrfToken(session));
  }

  private key(id: string): string {
    return this.keys.dashboardSession(digest(`session:${id}`).toString('hex'));
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

export class InsecureListenError extends Error {
  override name = 'InsecureListenError';
}

/**
 * Refuses to open the dashboard beyond this machine without an admin token. On loopback without one, a
 * random admin token is generated for this run (returned so the CLI can show it to whoever started it).
 */
export function resolveTokens(
  host: string,
  configured: { adminToken?: string; viewerToken?: string },
): TokenSettings & { generated: boolean } {
  if (configured.adminToken === undefined) {
    if (!isLoopbackHost(host)) {
      throw new InsecureListenError(
        `refusing to listen on ${host} without TANDEM_ADMIN_TOKEN: set one, or listen on 127.0.0.1`,
      );
    }
    return {
      adminToken: randomBytes(24).toString('base64url'),
      ...(configured.viewerToken === undefined ? {} : { viewerToken: configured.viewerToken }),
      generated: true,
    };
  }
  return {
    adminToken: configured.adminToken,
    ...(configured.viewerToken === undefined ? {} : { viewerToken: configured.viewerToken }),
    generated: false,
  };
}
