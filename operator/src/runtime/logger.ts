/**
 * JSON-lines logger. Every record is one JSON object on one line with `time`, `level`, `msg` and fields.
 * Values under keys that look like credentials (secret, token, password, client-secret, authorization, ...)
 * are replaced by "[REDACTED]" at any depth, so a careless `log.info('x', { obj })` cannot leak a secret.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Key names (compared lower-case with `-`/`_` removed) whose values are never printed. */
const SENSITIVE = /(secret|token|password|passwd|credential|authorization|apikey|privatekey|cookie|bearer)/;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE.test(key.toLowerCase().replace(/[-_.]/g, ''));
}

/** Deep copy of `value` with sensitive keys redacted and errors flattened. Cycles become "[Circular]". */
export function redact(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { statusCode?: unknown; code?: unknown }).statusCode ?? (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    return out;
  }
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, seen));
  if (Buffer.isBuffer(value)) return '[Buffer]';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSensitiveKey(k) && v !== undefined && v !== null && v !== '' ? '[REDACTED]' : redact(v, seen);
  }
  return out;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to process.stdout. */
  write?: (line: string) => void;
  base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = LEVELS[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const base = opts.base ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < min) return;
    const rec = redact({ time: new Date().toISOString(), level, msg, ...base, ...(fields ?? {}) });
    write(JSON.stringify(rec) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests that do not inspect logs). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => undefined });

export function parseLogLevel(value: string | undefined, field = 'LOG_LEVEL'): LogLevel {
  const v = (value ?? 'info').toLowerCase();
  if (v in LEVELS) return v as LogLevel;
  throw new Error(`${field}: "${value}" is not a log level; allowed: ${Object.keys(LEVELS).join(', ')}`);
}
