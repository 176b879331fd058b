import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

export type AgentDatabase = DatabaseSync

/**
 * The agent's schema, one step per version: a database written by an
 * older agent is brought up to date when a newer one opens it, and each
 * step runs once (PRAGMA user_version records how far it got).
 */
const migrations: string[] = [
  `create table decisions (
     seq integer primary key autoincrement,
     id text not null unique,
     occurred_at integer not null,
     decision text not null check (decision in ('granted', 'denied')),
     reason text not null,
     username text,
     name text,
     score real,
     method text not null,
     snapshot_file text,
     snapshot_bytes integer not null default 0,
     snapshot_shed integer not null default 0,
     state text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
     attempts integer not null default 0,
     last_error text,
     sent_at integer,
     server_event_id integer
   );
   create index decisions_state_seq on decisions (state, seq);
   create index decisions_snapshot_seq on decisions (snapshot_file, seq);
   create table counters (name text primary key, value integer not null);`,
  `create table settings (name text primary key, value text not null);`,
  `create table people (
     username text primary key,
     name text not null,
     valid_from text,
     valid_until text,
     group_ids text not null default '[]',
     card_number text,
     photo_url text
   );
   create table faces (
     id integer primary key autoincrement,
     username text not null,
     model text not null,
     dimension integer not null,
     vector blob not null
   );
   create index faces_username on faces (username);
   create table access_groups (id integer primary key, name text not null, schedule_id integer);
   create table schedule_windows (
     schedule_id integer not null,
     weekday integer not null,
     starts_at_minute integer not null,
     ends_at_minute integer not null
   );
   create table holidays (schedule_id integer not null, date text not null);
   create table device_rules (
     id integer primary key check (id = 1),
     required_factors text not null,
     time_zone text not null,
     target_fpir real,
     margin real
   );
   create table sync_state (
     id integer primary key check (id = 1),
     revision integer not null,
     synced_at integer not null
   );`,
]

/**
 * Opens (creating it readable by its owner only) the terminal agent's own
 * SQLite database at `path`, with its schema up to date. Writes are
 * durable once a statement returns (WAL with synchronous=FULL), so a
 * power cut after a decision is stored loses nothing.
 */
export function openAgentDatabase(path: string): AgentDatabase {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  // SQLite gives the -wal and -shm files the mode of the database file.
  closeSync(openSync(path, 'a', 0o600))
  chmodSync(path, 0o600)
  const db = new DatabaseSync(path)
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec('PRAGMA busy_timeout = 5000')
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
    user_version: number
  }
  for (let step = version; step < migrations.length; step++) {
    inTransaction(db, () => {
      db.exec(migrations[step])
      db.exec(`PRAGMA user_version = ${step + 1}`)
    })
  }
  return db
}

/** Runs `work` in one write transaction: all of it is stored, or none. */
export function inTransaction<T>(db: AgentDatabase, work: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = work()
    db.exec('COMMIT')
    return result
  } catch (error) {
    db.exec('ROLLBACK')
    throw error
  }
}

/** A value the agent keeps (its credential, its pairing, its last state); null when never set. */
export function readSetting(db: AgentDatabase, name: string): string | null {
  const row = db.prepare('select value from settings where name = ?').get(name) as
    { value: string } | undefined
  return row?.value ?? null
}

/** Keeps `value` under `name` durably; null forgets it. */
export function writeSetting(db: AgentDatabase, name: string, value: string | null) {
  if (value === null) db.prepare('delete from settings where name = ?').run(name)
  else
    db.prepare(
      'insert into settings (name, value) values (?, ?) on conflict (name) do update set value = excluded.value'
    ).run(name, value)
}
