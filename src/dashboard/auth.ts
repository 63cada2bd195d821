import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Who may use the dashboard. Two tokens: the admin token (read and replay) and an optional viewer token
 * (read only). A browser logs in with a token once and then carries a session cookie (HttpOnly,
 * SameSite=Strict, signed) naming a server-side session that expires; API clients may instead send
 * `Authorization: Bearer <token>` on every request.
 *
 * CSRF: every state-changing request made with the session cookie must carry the session's CSRF token
 * (form field `_csrf` or header `x-csrf-token`): an HMAC of the session id, so it cannot be guessed or
 * reused across sessions. Bearer requests are exempt: a browser never attaches a bearer header on its own,
 * so a forged cross-site request cannot carry one.
 */
export type Role = 'admin' | 'viewer';

export interface Session {
  id: string;
  role: Role;
  expiresAt: number;
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

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly csrfKey = randomBytes(32);

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  create(role: Role): Session {
    this.sweep();
    const session: Session = {
      id: randomBytes(24).toString('base64url'),
      role,
      expiresAt: this.now() + this.ttlMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  destroy(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  csrfToken(session: Session): string {
    return createHmac('sha256', this.csrfKey).update(`csrf:${session.id}`).digest('base64url');
  }

  checkCsrf(session: Session, given: string | undefined): boolean {
    return given !== undefined && given !== '' && tokensEqual(given, this.csrfToken(session));
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
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
