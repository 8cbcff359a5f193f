// The JSON shapes of the routes this host still answers itself (the OAuth routes,
// see routes.js); every other body is written by the account core's HTTP API.
// host/api/src/lib.rs is the reference; openapi.json documents them.

/** HTTP status of each of the core's error codes (as host/server/src/error.rs). */
const STATUS = {
  'invalid-input': 400,
  'weak-password': 422,
  'email-taken': 409,
  conflict: 409,
  'invalid-credentials': 401,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  'quota-exceeded': 429,
  'rate-limited': 429,
  unavailable: 503,
  internal: 500,
};

/** An API error: the status, and `{"error": {"code", "message"}}`. */
export class ApiError extends Error {
  constructor(code, message, status = STATUS[code] ?? 500) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** Milliseconds since the epoch (BigInt) as RFC 3339 UTC, whole seconds. */
export function timestamp(ms) {
  const n = Math.max(0, Number(ms));
  return new Date(n).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const optional = (v) => (v === undefined ? null : v);

export const profile = (p) => ({
  id: p.id,
  email: p.email,
  display_name: optional(p.displayName),
  created_at: timestamp(p.createdAt),
});

export const signedIn = (s) => ({
  token: s.token,
  session_id: s.sessionId,
  expires_at: timestamp(s.expiresAt),
  user: profile(s.user),
});

/**
 * Reads the fields of a JSON request body the way the native server's serde types
 * do: `spec` maps a field to `[type, required]`; a wrong or missing field is a 422.
 */
export function fields(body, spec) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError('invalid-input', 'malformed JSON body: expected a JSON object', 422);
  }
  const out = {};
  for (const [name, [type, required]] of Object.entries(spec)) {
    const value = body[name];
    if (value === undefined || value === null) {
      if (required) {
        throw new ApiError('invalid-input', `malformed JSON body: missing field \`${name}\``, 422);
      }
      continue;
    }
    const ok =
      type === 'string[]'
        ? Array.isArray(value) && value.every((v) => typeof v === 'string')
        : type === 'u32'
          ? Number.isInteger(value) && value >= 0 && value <= 0xffffffff
          : type === 'u64'
            ? Number.isSafeInteger(value) && value >= 0
            : typeof value === type;
    if (!ok) {
      throw new ApiError('invalid-input', `malformed JSON body: field \`${name}\` must be ${type}`, 422);
    }
    out[name] = value;
  }
  return out;
}
