// One loader for every daemon's settings: defaults < JSON config file < environment.
// Each top-level setting `fooBar` can be overridden by `<PREFIX>FOO_BAR`; an environment value
// is read as JSON when it parses as JSON (numbers, booleans, arrays, objects) and as a plain
// string otherwise. A bad value throws a SettingsError whose message names the setting, so a
// daemon can print it and exit non-zero. Reading the file is the caller's job (no I/O here).

import type { z } from 'zod';

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

export function envName(prefix: string, key: string): string {
  return prefix + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function envValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export function resolveSettings<S extends z.ZodObject>(
  schema: S,
  file: unknown,
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
  source = 'config file',
): z.output<S> {
  if (file !== undefined && (typeof file !== 'object' || file === null || Array.isArray(file))) {
    throw new SettingsError(`${source}: must hold a JSON object`);
  }
  const known = Object.keys(schema.shape);
  const merged: Record<string, unknown> = { ...(file as Record<string, unknown> | undefined) };
  for (const key of Object.keys(merged)) {
    if (!known.includes(key)) throw new SettingsError(`setting "${key}" (${source}): unknown setting`);
  }
  const fromEnv = new Set<string>();
  for (const key of known) {
    const raw = env[envName(prefix, key)];
    if (raw !== undefined) {
      merged[key] = envValue(raw);
      fromEnv.add(key);
    }
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = String(issue.path[0] ?? '');
    const where = fromEnv.has(key) ? `env ${envName(prefix, key)}` : source;
    const path = issue.path.map(String).join('.');
    throw new SettingsError(`setting "${path || key}" (${where}): ${issue.message}`);
  }
  return result.data;
}
