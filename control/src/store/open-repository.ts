// The store the settings name: the embedded SQLite file (default) or a shared PostgreSQL database.

import type { ControlSettings } from '../settings.ts';
import { PgRepository } from './pg-repository.ts';
import type { Repository } from './repository.ts';
import { SqliteRepository } from './sqlite-repository.ts';

export async function openRepository(s: ControlSettings): Promise<Repository> {
  const db = s.database;
  if (db.kind === 'postgres') return PgRepository.open({ url: db.url, poolSize: db.poolSize });
  return new SqliteRepository(s.dbPath);
}
