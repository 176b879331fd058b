import type { ModelEntry } from '../model_manifest.js'
import { ModelSessions } from '../model_sessions.js'
import type { PipelineJob, PipelineSettings } from '../pipeline.js'

/**
 * An engine worker that misbehaves on cue, for the pool's tests: it speaks
 * engine_worker's protocol and runs the real detector model, but each job's
 * `request` says what to do instead of finding faces.
 */
export type Cue =
  | { cue: 'infer'; runs: number }
  | { cue: 'spin'; ms: number }
  | { cue: 'allocate' }
  | { cue: 'crash' }
  | { cue: 'stray_reply' }
  | { cue: 'grow'; mb: number }

const send = (message: unknown) => process.send!(message)

process.on('disconnect', () => process.exit(0))

process.once(
  'message',
  async ({
    settings,
    entries,
  }: {
    settings: PipelineSettings
    entries: Record<string, ModelEntry>
  }) => {
    const detector = { [settings.detector]: entries[settings.detector] }
    const sessions = await ModelSessions.load(settings.modelsDir, detector, 1)
    const [input] = detector[settings.detector].inputs
    const blank = new Float32Array(input.shape.reduce((product, side) => product * side, 1))

    /** What `grow` keeps: native memory that stays resident until the worker ends. */
    const kept: Buffer[] = []

    const act = async (cue: Cue, id: number) => {
      switch (cue.cue) {
        case 'infer':
          for (let run = 0; run < cue.runs; run++) await sessions.run(settings.detector, blank)
          return []
        case 'spin': {
          const until = Date.now() + cue.ms
          while (Date.now() < until);
          return []
        }
        case 'allocate': {
          const hoard: number[][] = []
          for (;;) hoard.push(Array.from({ length: 1_000 }, (_, index) => index))
        }
        case 'crash':
          return process.kill(process.pid, 'SIGSEGV')
        case 'grow':
          kept.push(Buffer.alloc(cue.mb * 1024 * 1024, 1))
          return []
        case 'stray_reply':
          send({ id: id + 1_000, faces: [{ stray: true }] })
          return [{ stray: false }]
      }
    }

    process.on('message', async ({ id, job }: { id: number; job: PipelineJob }) => {
      const faces = await act(job.request as unknown as Cue, id)
      send({ id, faces, rss: process.memoryUsage.rss() })
    })
    send({ ready: true })
  }
)
