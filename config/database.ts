import { chmodSync, mkdirSync } from 'node:fs'
import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/lucid'

/**
 * better-sqlite3 cannot create the folder that holds the database file, and
 * tmp/ does not exist on a fresh clone.
 */
mkdirSync(app.tmpPath(), { recursive: true, mode: 0o700 })

const migrations = { naturalSort: true, paths: ['database/migrations'] }

const dbConfig = defineConfig({
  connection: env.get('DB_CONNECTION', 'sqlite'),
  prettyPrintDebugQueries: true,

  connections: {
    sqlite: {
      client: 'better-sqlite3',
      connection: {
        filename: app.tmpPath(env.get('DB_FILE', 'db.sqlite3')),
      },
      useNullAsDefault: true,
      migrations,
      schemaGeneration: { rulesPaths: ['./database/schema_rules.js'] },
      /**
       * SQLite enforces foreign keys only when asked, per connection.
       */
      pool: {
        afterCreate: (
          connection: { pragma: (sql: string) => void; name: string; memory: boolean },
          done: () => void
        ) => {
          // The database holds faces and credentials: for the server's account
          // alone (SQLite gives its -wal and -shm files the same mode).
          if (!connection.memory) chmodSync(connection.name, 0o600)
          connection.pragma('foreign_keys = ON')
          connection.pragma('journal_mode = WAL')
          connection.pragma('busy_timeout = 5000')
          done()
        },
      },
    },

    pg: {
      client: 'pg',
      connection: {
        host: env.get('PG_HOST', '127.0.0.1'),
        port: env.get('PG_PORT', 5432),
        user: env.get('PG_USER', 'faceaccess'),
        password: env.get('PG_PASSWORD'),
        database: env.get('PG_DB_NAME', 'faceaccess'),
      },
      migrations,
      /**
       * pg returns bigint (int8, OID 20) values as strings, so as not to lose
       * precision past 2^53. Revisions, counters and bigIncrements ids never
       * get there, and the models and SQLite treat them as numbers.
       */
      pool: {
        afterCreate: (
          connection: { setTypeParser: (oid: number, parse: (value: string) => number) => void },
          done: () => void
        ) => {
          connection.setTypeParser(20, Number)
          done()
        },
      },
      /**
       * database/schema.ts is generated from the SQLite schema; PostgreSQL
       * runs the same migrations without rewriting it.
       */
      schemaGeneration: { enabled: false },
    },
  },
})

export default dbConfig
