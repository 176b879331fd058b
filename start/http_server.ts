/*
|--------------------------------------------------------------------------
| The Node server bin/server.ts listens with
|--------------------------------------------------------------------------
|
| Plain HTTP, for a server behind a reverse proxy that terminates TLS or on
| a closed network (ALLOW_PLAIN_HTTP); or HTTPS, for a site without a proxy,
| when TLS_CERT_FILE and TLS_KEY_FILE name a PEM certificate (with its
| chain) and its key. The files are read when the server starts: restart it
| after renewing them.
|
*/
import { readFileSync } from 'node:fs'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import env from '#start/env'

type Handler = (request: IncomingMessage, response: ServerResponse) => unknown

/** Where the certificate and its key are, as TLS_CERT_FILE and TLS_KEY_FILE say. */
export type TlsFiles = { certFile?: string; keyFile?: string }

/**
 * An HTTPS server when both files are given, plain HTTP when neither is;
 * one without the other, or a file that cannot be read, stops the start
 * with what to fix.
 */
export function createNodeServer(handler: Handler, files: TlsFiles = tlsFilesFromEnv()) {
  const { certFile, keyFile } = files
  if (!certFile && !keyFile) return createHttpServer(handler)
  if (!certFile || !keyFile) {
    throw new Error(
      `${certFile ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE'} is set without ${certFile ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'}: set both (PEM certificate with its chain, and its private key) to serve https, or neither to serve plain http behind a reverse proxy.`
    )
  }
  return createHttpsServer(
    { cert: readTlsFile('TLS_CERT_FILE', certFile), key: readTlsFile('TLS_KEY_FILE', keyFile) },
    handler
  )
}

function tlsFilesFromEnv(): TlsFiles {
  return {
    certFile: env.get('TLS_CERT_FILE') || undefined,
    keyFile: env.get('TLS_KEY_FILE') || undefined,
  }
}

function readTlsFile(variable: string, path: string) {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new Error(
      `${variable}=${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): the server's account must be able to read it.`
    )
  }
}
