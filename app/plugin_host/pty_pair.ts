import { spawn, type ChildProcess } from 'node:child_process'
import { lstat, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Two pseudo-terminals joined by `socat`, standing in for a serial cable:
 * what is written to one end is read from the other. A driver under test
 * opens `devicePath` as it would `/dev/ttyUSB0`, and a peer (a simulated
 * board or reader) speaks real frames on `peerPath`.
 */
export interface PtyPair {
  devicePath: string
  peerPath: string
  /** Ends socat: both ends vanish, as when a USB adapter is pulled out. */
  unplug(): Promise<void>
  /** socat again, on the same two paths, as when the adapter is plugged back in. */
  plug(): Promise<void>
  close(): Promise<void>
}

async function exists(path: string) {
  return lstat(path).then(
    () => true,
    () => false
  )
}

/**
 * Starts `socat` (Debian package `socat`) with a pty pair in a fresh
 * temporary folder; both paths exist when this resolves.
 */
export async function createPtyPair(): Promise<PtyPair> {
  const folder = await mkdtemp(join(tmpdir(), 'pty-pair-'))
  const devicePath = join(folder, 'device')
  const peerPath = join(folder, 'peer')
  let socat: ChildProcess | null = null

  async function plug() {
    if (socat) return
    const started = spawn(
      'socat',
      [`pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${peerPath}`],
      { stdio: ['ignore', 'ignore', 'pipe'] }
    )
    let failure: Error | null = null
    started.once('error', (error) => {
      failure = new Error(`Cannot run socat (Debian package "socat"): ${error.message}`)
    })
    socat = started
    for (let waited = 0; waited < 5000; waited += 10) {
      if (failure) throw failure
      if (started.exitCode !== null) throw new Error(`socat exited with ${started.exitCode}`)
      if ((await exists(devicePath)) && (await exists(peerPath))) return
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error('socat did not create its pty pair within 5 s')
  }

  async function unplug() {
    const running = socat
    socat = null
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGTERM')
    await exited
    await rm(devicePath, { force: true })
    await rm(peerPath, { force: true })
  }

  await plug()
  return {
    devicePath,
    peerPath,
    plug,
    unplug,
    async close() {
      await unplug()
      await rm(folder, { recursive: true, force: true })
    },
  }
}
