// The HTTP API's JSON shapes (host/api/src/lib.rs is the reference; openapi.json
// documents them): the account core's records in, API bodies out. Translation only.

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

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'];

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

const optionalTime = (ms) => (ms === undefined || ms === null ? null : timestamp(ms));
const optional = (v) => (v === undefined ? null : v);

/** JSON text from the core as a value (the core only stores valid JSON). */
function jsonValue(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

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

export const session = (s) => ({
  id: s.id,
  user_agent: optional(s.userAgent),
  ip: optional(s.ip),
  created_at: timestamp(s.createdAt),
  last_seen_at: timestamp(s.lastSeenAt),
  expires_at: timestamp(s.expiresAt),
  current: s.current,
});

/**
 * `GET /v1/preferences` as JSON text. Each value is spliced in as the core stored it
 * (compact JSON), never through JSON.parse, which would round a number such as
 * 18446744073709551616 to a double: values come back with the digits they were
 * given, as from qhub serve. Text that is not JSON (written by another tool) becomes
 * a string, as `jsonValue` does.
 */
export function preferencesText(list) {
  const valueText = (text) => {
    try {
      JSON.parse(text);
      return text;
    } catch {
      return JSON.stringify(text);
    }
  };
  const items = list.map(
    (p) =>
      `{"key":${JSON.stringify(p.key)},"value":${valueText(p.value)},"updated_at":${JSON.stringify(timestamp(p.updatedAt))}}`,
  );
  return `[${items.join(',')}]`;
}

export const usage = (u) => ({
  period: u.period,
  jobs_used: u.jobsUsed,
  jobs_limit: u.jobsLimit,
  shots_used: Number(u.shotsUsed),
  shots_limit: Number(u.shotsLimit),
});

export const job = (j) => ({
  id: j.id,
  status: j.status,
  backend: j.backend,
  shots: j.shots,
  source: j.source,
  result: j.result === undefined || j.result === null ? null : jsonValue(j.result),
  error: optional(j.error),
  created_at: timestamp(j.createdAt),
  updated_at: timestamp(j.updatedAt),
});

export const apiKey = (k) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  created_at: timestamp(k.createdAt),
  expires_at: optionalTime(k.expiresAt),
  last_used_at: optionalTime(k.lastUsedAt),
});

export const newApiKey = (k) => ({ key: apiKey(k.key), secret: k.secret });

export const connection = (c) => ({
  id: c.id,
  provider: c.provider,
  subject: c.subject,
  email: optional(c.email),
  created_at: timestamp(c.createdAt),
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
