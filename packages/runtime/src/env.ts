/**
 * Reading configuration from the environment. Every reader names the variable in its error, so a
 * bad value stops the process at start with a message an operator can act on.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
  }
}

export type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function envString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function envOptional(env: Env, name: string): string | undefined {
  return raw(env, name);
}

export function envInt(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `"${value}" is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `${n} is outside ${min}..${max}`);
  return n;
}

export function envChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw new ConfigError(name, `"${value}" is not one of ${choices.join(', ')}`);
  return value as T;
}

export function envList(env: Env, name: string): string[] | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new ConfigError(name, 'is an empty list');
  return items;
}

export function envUrl(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, `"${value}" is not a URL`);
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(name, `protocol ${url.protocol} is not one of ${protocols.join(', ')}`);
  return value;
}

export function envName(env: Env, name: string, fallback: string, pattern: RegExp): string {
  const value = raw(env, name) ?? fallback;
  if (!pattern.test(value)) throw new ConfigError(name, `"${value}" must match ${pattern}`);
  return value;
}

/** A comma list of `host:port` (a Redis Cluster's seeds); undefined when unset. */
export function envHostPorts(env: Env, name: string): string[] | undefined {
  const items = envList(env, name);
  if (items === undefined) return undefined;
  for (const item of items) {
    const match = /^([A-Za-z0-9_.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(item);
    if (match === null || Number(match[2]) < 1 || Number(match[2]) > 65535) throw new ConfigError(name, `"${item}" is not host:port`);
  }
  return items;
}
