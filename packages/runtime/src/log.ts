export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  /**
   * Whether debug lines are written. A debug call on a hot path (per connection, per join) is
   * guarded by it, `if (log.debugEnabled) log.debug('joined', { ... })`, so that at info level not
   * even its fields object is built.
   */
  readonly debugEnabled: boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const skip = (): void => undefined;

/**
 * One JSON object per line on stdout: time, level, node, message, then the fields. A level below
 * the threshold is a shared no-op, chosen once here rather than compared on every call.
 */
export function createLogger(level: LogLevel, base: LogFields = {}, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const at = (lvl: LogLevel) => LOG_LEVELS.indexOf(lvl) < threshold ? skip : (msg: string, fields?: LogFields) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, ...base, msg, ...fields }, errorsAsText)}\n`);
  };
  return { debugEnabled: threshold === 0, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function errorsAsText(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}` : value;
}
