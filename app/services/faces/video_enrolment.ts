import { randomUUID } from 'node:crypto'
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { extname, join, relative } from 'node:path'
import { performance } from 'node:perf_hooks'
import { inject } from '@adonisjs/core'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import sharp from 'sharp'
import terminalConfig from '#config/terminal'
import videoConfig from '#config/video'
import Person from '#models/person'
import VideoEnrolment, {
  type BestFrame,
  type ChosenFrame,
  type VideoEnrolmentStatus,
} from '#models/video_enrolment'
import { PluginHost } from '#plugin-host/plugin_host'
import type { DecodedImage, FaceBox, FaceFeature, FaceQuality, LivenessScores } from '#plugin-sdk'
import type { Actor } from '#services/audit_trail'
import type { JobDispatcher } from '#services/queue_service'
import { toSqlDateTime } from '#services/sql_time'
import { backgroundFaceShare, FaceEnrolment } from '#faces/face_enrolment'
import type { FeatureComparator } from '#faces/feature_blob'
import { faceSquare } from '#faces/face_thumbnails'
import { matchThreshold } from '#faces/open_set_identification'
import { RecognitionEngine } from '#faces/recognition_engine'
import { probeVideo, videoFrames, type VideoFrame } from '#faces/video_frames'

/** Why a video enrolled nothing, as stored in `reason_code` with its message. */
export type VideoRefusal = { type: string; message: string }

/** What the job hands back (BullMQ keeps it as the job's result). */
export type VideoRunResult = {
  status: VideoEnrolmentStatus
  enrolled: number
  timings?: VideoTimings
}

/** Milliseconds spent in each part of a run (the benchmark prints them). */
export type VideoTimings = { decode: number; detect: number; select: number; enrol: number }

/**
 * What a job carries: the enrolment, who asked for it (for the audit
 * log), and the upload's path, deleted by the job even when the
 * enrolment is gone with its person.
 */
export type VideoJobPayload = { videoEnrolmentId: number; actor: Actor; videoPath?: string }

/**
 * A share of the frames with a face at or above which a second person
 * counts: someone who only walks past in a frame or two does not.
 */
const severalPeopleShare = 0.2
/** Mean brightness (0..255) under which a frame without a face is called dark. */
const darkFrame = 40
/** How often progress is written and a cancel looked for while frames are read. */
const progressEveryMs = 500
/** A calibrated score a face must keep with the previous frame's to continue its track by position. */
const continuityScore = 0.3
/** Two chosen frames should differ at least this much in yaw or pitch (quality measures). */
const poseDistance = 0.08

/** A frame that may be enrolled: its pixels as a JPEG, and what the engine saw. */
type Candidate = {
  frame: number
  at: number
  score: number
  yaw: number
  pitch: number
  track: number
  box: FaceBox
  jpeg: Buffer
}

type Track = { first: FaceFeature; latest: FaceFeature; box: FaceBox; frames: number }

/** Counters of a run so far, written to the row as it goes. */
type Counters = {
  framesRead: number
  framesWithFace: number
  framesSeveralFaces: number
  darkFrames: number
  issues: Map<string, { count: number; message: string }>
}

class Cancelled extends Error {}

/**
 * Registration from a short video: the upload is checked and kept until
 * its job ends; the job reads frames with ffmpeg at a bounded rate, finds
 * the one person's face in them and follows it (the same person, by
 * feature, across frames), scores each frame (the engine's quality score,
 * sharpness, size, how frontal, liveness), keeps the best at each head
 * pose and enrols the best `wanted` frames at different poses through
 * FaceEnrolment, the one enrolment path. A video with no face, with two
 * people, too dark or with no frame good enough is refused with that
 * reason; frames FaceEnrolment refuses are listed with its reason.
 *
 * A job run again (a retry, a duplicate, a worker killed mid-way) does
 * nothing for a finished enrolment and, for one in progress, starts the
 * frames again: each enrolled frame is recorded in the same transaction
 * as its face, so frames already enrolled count and are not enrolled
 * twice (and the same frame is the same photo, which FaceEnrolment takes
 * only once per person).
 */
@inject()
export class VideoEnrolmentService {
  constructor(
    private recognition: RecognitionEngine,
    private enrolment: FaceEnrolment,
    private plugins: PluginHost
  ) {}

  /** Minutes without progress after which a running enrolment's job is taken as lost. */
  static lostAfterMinutes = 10

  /** Where uploaded videos wait for their job (not an area the storage sweep empties). */
  static videosDir() {
    return join(terminalConfig.storageDir, 'videos')
  }

  /**
   * Where the thumbnails of a run's best frames are kept while it runs:
   * the staging area, which the storage sweep clears of anything a crash
   * leaves.
   */
  static stagingDir() {
    return join(terminalConfig.storageDir, 'staging')
  }

  /** The names of the thumbnails a video enrolment's run has in the staging area. */
  static async thumbnailsOf(id: number) {
    const names = await readdir(VideoEnrolmentService.stagingDir()).catch(() => [] as string[])
    return names.filter((name) => name.startsWith(`video-${id}-`))
  }

  /**
   * Takes an uploaded file for a person: refused at once when the person
   * has no consent on record, the file is too large or ffprobe says it is
   * no video this server takes (the file is then left to the caller,
   * which deletes it with the request); otherwise the file moves out of
   * the request's reach, a row is created and the job is queued.
   */
  async accept(
    actor: Actor,
    person: Person,
    upload: { tmpPath: string; clientName: string | null; size: number },
    queue: JobDispatcher
  ): Promise<{ ok: true; enrolment: VideoEnrolment } | { ok: false; error: VideoRefusal }> {
    if (!person.consentGivenAt) {
      return {
        ok: false,
        error: {
          type: 'no_consent',
          message: `no biometric consent is on record for ${person.username}; record it before enrolling a face`,
        },
      }
    }
    if (upload.size > videoConfig.maxBytes) {
      return { ok: false, error: tooLarge() }
    }
    const probed = await probeVideo(upload.tmpPath)
    if (!probed.ok) return probed

    await this.#sweepVideos()
    await mkdir(VideoEnrolmentService.videosDir(), { recursive: true, mode: 0o700 })
    const extension = /^\.[a-z0-9]{1,5}$/i.test(extname(upload.clientName ?? ''))
      ? extname(upload.clientName!).toLowerCase()
      : ''
    const path = join(VideoEnrolmentService.videosDir(), `${randomUUID()}${extension}`)
    await rename(upload.tmpPath, path)
    let enrolment: VideoEnrolment
    try {
      enrolment = await VideoEnrolment.create({
        personId: person.id,
        operatorId: actor.userId,
        status: 'queued',
        originalName: upload.clientName?.slice(0, 255) ?? null,
        videoPath: relative(app.makePath(), path),
        sizeBytes: upload.size,
        durationMs: probed.probe.durationMs,
        wantedFrames: videoConfig.enrolFrames,
      })
    } catch (error) {
      await rm(path, { force: true })
      throw error
    }
    const { default: EnrolFromVideoJob } = await import('#jobs/enrol_from_video_job')
    try {
      const jobId = await queue.dispatch(
        EnrolFromVideoJob,
        { videoEnrolmentId: enrolment.id, actor, videoPath: enrolment.videoPath! },
        { jobId: `video-enrolment-${enrolment.id}-${enrolment.createdAt.toMillis()}` }
      )
      enrolment.jobId = jobId
      await enrolment.save()
    } catch (error) {
      await this.#finish(enrolment, 'failed', {
        type: 'queue_unavailable',
        message: 'the job queue cannot be reached; try again in a moment',
      })
      throw error
    }
    return { ok: true, enrolment }
  }

  /**
   * Deletes uploads no unfinished enrolment waits for, a day after they
   * arrived: those of rows deleted while their job was lost, or of a job
   * whose end was never written.
   */
  async #sweepVideos() {
    const oldest = Date.now() - 24 * 60 * 60_000
    const folder = VideoEnrolmentService.videosDir()
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const path = join(folder, name)
      const info = await stat(path).catch(() => null)
      if (!info || info.mtimeMs >= oldest) continue
      const waiting = await VideoEnrolment.query()
        .where('video_path', relative(app.makePath(), path))
        .whereIn('status', ['queued', 'running'])
        .first()
      if (!waiting) await rm(path, { force: true })
    }
  }

  /**
   * Asks the job to stop. A queued one is cancelled at once (its job
   * finds it cancelled); a running one stops at its next frame. Once the
   * chosen frames are being enrolled it finishes (that takes a moment),
   * so a cancel never leaves some of them enrolled: false then.
   */
  async cancel(enrolment: VideoEnrolment) {
    if (enrolment.finished) return false
    if (enrolment.stage === 'enrolling') return false
    if (enrolment.status === 'queued') {
      // Unless a worker has just taken it: then it is running and stops at its next frame.
      const taken = await moveStatus(enrolment.id, ['queued'], 'cancelled', {
        cancel_requested: true,
        finished_at: toSqlDateTime(),
      })
      await enrolment.refresh()
      if (taken) {
        await this.#cleanUp(enrolment)
        return true
      }
    }
    enrolment.cancelRequested = true
    await enrolment.save()
    return true
  }

  /**
   * A person's latest video enrolments, newest first, for their page. A
   * running one that has not moved for `lostAfterMinutes` lost its job
   * (BullMQ gives up on a job whose workers keep dying): it is ended as
   * failed, its upload deleted, rather than shown running for ever.
   */
  async forPerson(personId: number, limit = 5) {
    const latest = await VideoEnrolment.query()
      .where('person_id', personId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
    const stale = DateTime.now().minus({ minutes: VideoEnrolmentService.lostAfterMinutes })
    for (const enrolment of latest) {
      if (enrolment.status !== 'running' || enrolment.updatedAt > stale) continue
      if (
        await moveStatus(enrolment.id, ['running'], 'failed', { updated_at: toSqlDateTime(stale) })
      ) {
        await this.#finish(enrolment, 'failed', {
          type: 'job_lost',
          message: 'the job reading this video stopped without finishing; upload the video again',
        })
      }
    }
    return latest
  }

  /**
   * The job's work. Expected outcomes (refusals, a cancel) finish the row
   * and return; an engine that is not there throws so that the queue
   * retries, and the last attempt finishes the row as failed.
   */
  async run(
    payload: VideoJobPayload,
    attempt: { last: boolean },
    report: (progress: Record<string, unknown>) => Promise<void> = async () => {}
  ): Promise<VideoRunResult> {
    const enrolment = await VideoEnrolment.find(payload.videoEnrolmentId)
    if (!enrolment) {
      if (payload.videoPath) await rm(app.makePath(payload.videoPath), { force: true })
      return { status: 'cancelled', enrolled: 0 }
    }
    if (enrolment.finished) {
      await this.#cleanUp(enrolment)
      return { status: enrolment.status, enrolled: enrolledOf(enrolment).length }
    }
    const person = await Person.find(enrolment.personId)
    if (!person || enrolment.cancelRequested) {
      await this.#finish(enrolment, 'cancelled', null)
      return { status: 'cancelled', enrolled: 0 }
    }
    try {
      return await this.#run(enrolment, person, payload.actor, report)
    } catch (error) {
      if (error instanceof Cancelled) {
        await this.#finish(enrolment, 'cancelled', null)
        return { status: 'cancelled', enrolled: enrolledOf(enrolment).length }
      }
      if (attempt.last) {
        await this.#finish(enrolment, 'failed', {
          type: 'job_failed',
          message: error instanceof Error ? error.message : String(error),
        })
      }
      throw error
    }
  }

  async #run(
    enrolment: VideoEnrolment,
    person: Person,
    actor: Actor,
    report: (progress: Record<string, unknown>) => Promise<void>
  ): Promise<VideoRunResult> {
    const path = enrolment.videoPath ? app.makePath(enrolment.videoPath) : null
    if (!path || !(await stat(path).catch(() => null))) {
      return this.#refuse(enrolment, {
        type: 'upload_missing',
        message: 'the uploaded video is no longer there; upload it again',
      })
    }
    await this.#engineStarted()
    // Taken from the queue unless it was cancelled meanwhile.
    if (!(await moveStatus(enrolment.id, ['queued', 'running'], 'running'))) {
      await enrolment.refresh()
      await this.#cleanUp(enrolment)
      return { status: enrolment.status, enrolled: 0 }
    }
    enrolment.merge({
      status: 'running',
      stage: 'decoding',
      startedAt: enrolment.startedAt ?? DateTime.now(),
      framesRead: 0,
      framesWithFace: 0,
      framesSeveralFaces: 0,
      best: [],
    })
    await enrolment.save()

    const probed = await probeVideo(path)
    if (!probed.ok) return this.#refuse(enrolment, probed.error)
    const compared = await this.recognition.comparator()
    if (!compared.ok) throw new Error(compared.error.message)

    const timings: VideoTimings = { decode: 0, detect: 0, select: 0, enrol: 0 }
    const counters: Counters = {
      framesRead: 0,
      framesWithFace: 0,
      framesSeveralFaces: 0,
      darkFrames: 0,
      issues: new Map(),
    }
    const tracks: Track[] = []
    const candidates: Candidate[] = []
    await removeThumbnails(enrolment.id)
    await mkdir(VideoEnrolmentService.stagingDir(), { recursive: true, mode: 0o700 })
    let best: BestFrame[] = []
    let written = 0

    const frames = videoFrames(path, probed.probe)
    let decodeStarted = performance.now()
    for await (const frame of frames) {
      timings.decode += performance.now() - decodeStarted
      const detectStarted = performance.now()
      const candidate = await this.#look(frame, counters, tracks, compared.comparator)
      timings.detect += performance.now() - detectStarted

      const selectStarted = performance.now()
      if (candidate && keep(candidates, candidate, enrolment.wantedFrames)) {
        const shown = bestFrames(candidates, enrolment.wantedFrames)
        if (shown.some((frameShown) => frameShown.frame === candidate.frame)) {
          await writeThumbnail(enrolment.id, frame, candidate)
          best = shown.map(({ frame: index, at, score, yaw, pitch }) => ({
            frame: index,
            at,
            score,
            yaw,
            pitch,
            thumbnail: thumbnailName(enrolment.id, index),
          }))
        }
      }
      timings.select += performance.now() - selectStarted

      if (performance.now() - written > progressEveryMs) {
        written = performance.now()
        await this.#progress(enrolment, counters, best, report)
      }
      decodeStarted = performance.now()
    }
    timings.decode += performance.now() - decodeStarted
    await this.#progress(enrolment, counters, best, report)

    const selectStarted = performance.now()
    const refusal = judge(counters, tracks)
    if (refusal) return { ...(await this.#refuse(enrolment, refusal)), timings }
    const main = tracks.reduce(
      (top, track, index) => (track.frames > tracks[top].frames ? index : top),
      0
    )
    const chosen = choose(
      candidates.filter((candidate) => candidate.track === main),
      enrolment.wantedFrames
    )
    timings.select += performance.now() - selectStarted
    if (chosen.length === 0) {
      const refused = await this.#refuse(enrolment, {
        type: 'poor_quality',
        message: `no frame shows the face well enough to enrol: ${adviceFor(counters.issues)}`,
      })
      return { ...refused, timings }
    }

    if (await this.#cancelRequested(enrolment)) throw new Cancelled()
    enrolment.stage = 'enrolling'
    await enrolment.save()

    const enrolStarted = performance.now()
    const enrolled = await this.#enrolFrames(enrolment, person, actor, chosen)
    timings.enrol = performance.now() - enrolStarted

    if (enrolled === 0) {
      const first = (enrolment.frames ?? []).find((frame) => frame.refusal)?.refusal
      return {
        ...(await this.#refuse(
          enrolment,
          first ?? { type: 'poor_quality', message: 'no frame of the video could be enrolled' }
        )),
        timings,
      }
    }
    await this.#finish(enrolment, 'done', null)
    return { status: 'done', enrolled, timings }
  }

  /**
   * What the engine sees in one frame: a candidate when it shows one
   * person's face good enough to enrol. Counts frames with a face, with
   * several people, dark ones and quality issues along the way.
   */
  async #look(
    frame: VideoFrame,
    counters: Counters,
    tracks: Track[],
    comparator: FeatureComparator
  ): Promise<Candidate | null> {
    counters.framesRead++
    const field = `the frame at ${frame.at.toFixed(2)} s`
    const opened = this.recognition.picture(frame.image, field)
    if (!opened.ok) throw new Error(opened.error.message)
    const detected = await opened.picture.detect()
    if (!detected.ok) {
      if (detected.error.type === 'engine_unavailable') throw new Error(detected.error.message)
      if (meanBrightness(frame.image) < darkFrame) counters.darkFrames++
      return null
    }
    const widest = detected.faces[0].box.right - detected.faces[0].box.left
    const people = detected.faces.filter(
      (face) => face.box.right - face.box.left >= widest * backgroundFaceShare
    )
    if (people.length > 1) {
      counters.framesSeveralFaces++
      return null
    }
    const analysed = await opened.picture.analyse(
      { feature: true, quality: true, liveness: true },
      people[0].box
    )
    if (!analysed.ok) {
      if (analysed.error.type === 'engine_unavailable') throw new Error(analysed.error.message)
      return null
    }
    counters.framesWithFace++
    const track = follow(tracks, { feature: analysed.feature!, box: analysed.face.box }, comparator)
    const quality = analysed.quality
    if (!quality) return null
    for (const issue of quality.issues) {
      const seen = counters.issues.get(issue.code) ?? { count: 0, message: issue.message }
      seen.count++
      counters.issues.set(issue.code, seen)
    }
    if (!quality.acceptable) return null
    return {
      frame: frame.index,
      at: Math.round(frame.at * 100) / 100,
      score: frameScore(quality, analysed.liveness),
      yaw: quality.measures.yaw ?? 0,
      pitch: quality.measures.pitch ?? 0,
      track,
      box: analysed.face.box,
      jpeg: await sharp(frame.image.data, {
        raw: { width: frame.image.width, height: frame.image.height, channels: 3 },
      })
        .jpeg({ quality: 92 })
        .toBuffer(),
    }
  }

  /**
   * Enrols the chosen frames until `wanted` are enrolled, counting those
   * an earlier run of this job enrolled; each enrolled frame is recorded
   * in its face's transaction.
   */
  async #enrolFrames(enrolment: VideoEnrolment, person: Person, actor: Actor, chosen: Candidate[]) {
    await enrolment.refresh()
    const done = new Set(enrolledOf(enrolment).map((frame) => frame.frame))
    let enrolled = done.size
    for (const candidate of chosen) {
      if (enrolled >= enrolment.wantedFrames) break
      if (done.has(candidate.frame)) continue
      const record = (faceId: number | null, refusal: VideoRefusal | null): ChosenFrame => ({
        frame: candidate.frame,
        at: candidate.at,
        score: Math.round(candidate.score * 1000) / 1000,
        faceId,
        refusal,
      })
      const read = await this.enrolment.read(candidate.jpeg, {
        field: `the frame at ${candidate.at.toFixed(2)} s`,
      })
      if (!read.ok) {
        await this.#recordFrame(enrolment, record(null, brief(read.error)))
        continue
      }
      const result = await this.enrolment.enrol(actor, { person }, read.candidate, {
        source: 'video',
        within: async (trx, _person, face) => {
          const locked = await VideoEnrolment.query({ client: trx })
            .where('id', enrolment.id)
            .firstOrFail()
          locked.frames = withFrame(locked.frames, record(face.id, null))
          await locked.useTransaction(trx).save()
        },
      })
      if (result.ok) {
        if (!result.created) await this.#recordFrame(enrolment, record(result.face.id, null))
        enrolled++
      } else {
        await this.#recordFrame(enrolment, record(null, brief(result.error)))
      }
    }
    await enrolment.refresh()
    return enrolled
  }

  async #recordFrame(enrolment: VideoEnrolment, frame: ChosenFrame) {
    await enrolment.refresh()
    enrolment.frames = withFrame(enrolment.frames, frame)
    await enrolment.save()
  }

  async #progress(
    enrolment: VideoEnrolment,
    counters: Counters,
    best: BestFrame[],
    report: (progress: Record<string, unknown>) => Promise<void>
  ) {
    if (await this.#cancelRequested(enrolment)) throw new Cancelled()
    enrolment.merge({
      framesRead: counters.framesRead,
      framesWithFace: counters.framesWithFace,
      framesSeveralFaces: counters.framesSeveralFaces,
      best,
    })
    await enrolment.save()
    await report({
      framesRead: counters.framesRead,
      framesWithFace: counters.framesWithFace,
      best: best.map((frame) => frame.frame),
    })
  }

  async #cancelRequested(enrolment: VideoEnrolment) {
    const row = await VideoEnrolment.query()
      .where('id', enrolment.id)
      .select('cancel_requested')
      .first()
    return !row || row.cancelRequested
  }

  async #refuse(enrolment: VideoEnrolment, refusal: VideoRefusal): Promise<VideoRunResult> {
    await this.#finish(enrolment, 'failed', refusal)
    return { status: 'failed', enrolled: 0 }
  }

  /**
   * Ends the run: the status and reason are written, then the upload and
   * the thumbnails are deleted and the row forgets the path. A crash in
   * between leaves the path, which the job deletes when it runs again.
   */
  async #finish(
    enrolment: VideoEnrolment,
    status: VideoEnrolmentStatus,
    refusal: VideoRefusal | null
  ) {
    enrolment.merge({
      status,
      stage: null,
      reasonCode: refusal?.type ?? null,
      reason: refusal?.message ?? null,
      finishedAt: DateTime.now(),
    })
    if (status !== 'done') enrolment.best = []
    await enrolment.save()
    await this.#cleanUp(enrolment)
  }

  async #cleanUp(enrolment: VideoEnrolment) {
    await removeThumbnails(enrolment.id)
    if (enrolment.videoPath) {
      await rm(app.makePath(enrolment.videoPath), { force: true })
      enrolment.videoPath = null
      await enrolment.save()
    }
  }

  /**
   * The web process starts the engine with the plugin host; a worker
   * process (node ace queue:work) starts only the engine instances, not
   * the door, reader and light plugins that the web process drives.
   */
  async #engineStarted() {
    if (this.plugins.instancesOfKind('engine').length === 0) await this.plugins.status()
    await Promise.all(
      this.plugins
        .instancesOfKind('engine')
        .filter((instance) => instance.state === 'stopped')
        .map((instance) => instance.start())
    )
  }
}

/**
 * A video enrolment as the person page's script follows it: counters,
 * the best frames so far with their thumbnails while it runs, and the
 * chosen frames with their faces' thumbnails once done.
 */
export function videoProgress(enrolment: VideoEnrolment) {
  const base = `/admin/people/${enrolment.personId}`
  return {
    id: enrolment.id,
    originalName: enrolment.originalName,
    createdAt: enrolment.createdAt,
    status: enrolment.status,
    stage: enrolment.stage,
    finished: enrolment.finished,
    cancelRequested: enrolment.cancelRequested,
    framesRead: enrolment.framesRead,
    framesWithFace: enrolment.framesWithFace,
    framesSeveralFaces: enrolment.framesSeveralFaces,
    expectedFrames: Math.ceil(((enrolment.durationMs ?? 0) / 1000) * videoConfig.sampleFps),
    wantedFrames: enrolment.wantedFrames,
    best: enrolment.finished
      ? []
      : (enrolment.best ?? []).map((frame) => ({
          frame: frame.frame,
          at: frame.at,
          score: Math.round(frame.score * 1000) / 1000,
          thumbnail: `${base}/videos/${enrolment.id}/thumbnail/${frame.frame}`,
        })),
    frames: (enrolment.frames ?? []).map((frame) => ({
      ...frame,
      thumbnail: frame.faceId ? `${base}/faces/${frame.faceId}/thumbnail/96` : null,
    })),
    reasonCode: enrolment.reasonCode,
    reason: enrolment.reason,
  }
}

function tooLarge(): VideoRefusal {
  return {
    type: 'too_large',
    message: `the video is larger than ${Math.round(videoConfig.maxBytes / 104_857.6) / 10} MB; record a shorter one`,
  }
}

export { tooLarge as videoTooLarge }

/**
 * Moves an enrolment to `to` when it is in one of the `from` states, in
 * one statement, so that the worker taking it and the operator cancelling
 * it cannot both win. Whether it moved.
 */
async function moveStatus(
  id: number,
  from: VideoEnrolmentStatus[],
  to: VideoEnrolmentStatus,
  more: Record<string, unknown> = {}
) {
  const changed = await db
    .from('video_enrolments')
    .where('id', id)
    .whereIn('status', from)
    .update({ status: to, updated_at: toSqlDateTime(), ...more })
  return Number(Array.isArray(changed) ? changed[0] : changed) > 0
}

function enrolledOf(enrolment: VideoEnrolment) {
  return (enrolment.frames ?? []).filter((frame) => frame.faceId !== null)
}

function withFrame(frames: ChosenFrame[] | null, frame: ChosenFrame) {
  return [...(frames ?? []).filter((other) => other.frame !== frame.frame), frame]
}

function brief(error: { type: string; message: string }): VideoRefusal {
  return { type: error.type, message: error.message }
}

/**
 * The face's track. A face continues a track when it matches the track's
 * first or latest face at the 1:1 threshold, or sits where the latest one
 * was (boxes overlapping) and still resembles it: a head turning away
 * scores below the threshold against a frontal face but moves little
 * between frames. Otherwise it starts a track. One person gives one
 * track; a second person who shows up alone in other frames gives a second.
 */
function follow(
  tracks: Track[],
  face: { feature: FaceFeature; box: FaceBox },
  comparator: FeatureComparator
) {
  const score = (a: FaceFeature, b: FaceFeature) => {
    const compared = comparator.compare(a, b)
    return compared.ok ? compared.score : 0
  }
  const index = tracks.findIndex((track) => {
    const latest = score(track.latest, face.feature)
    if (latest >= matchThreshold || score(track.first, face.feature) >= matchThreshold) return true
    return overlap(track.box, face.box) >= 0.3 && latest >= continuityScore
  })
  if (index < 0) {
    tracks.push({ first: face.feature, latest: face.feature, box: face.box, frames: 1 })
    return tracks.length - 1
  }
  Object.assign(tracks[index], { latest: face.feature, box: face.box })
  tracks[index].frames++
  return index
}

/** Intersection over union of two boxes. */
function overlap(a: FaceBox, b: FaceBox) {
  const width = Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
  const height = Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top))
  const shared = width * height
  const area = (box: FaceBox) => (box.right - box.left) * (box.bottom - box.top)
  return shared / Math.max(1e-6, area(a) + area(b) - shared)
}

/**
 * How good a frame is to enrol, 0..1: half the engine's quality score
 * (its weakest measure), half the mean of how sharp, how large, how
 * frontal and how live the face is.
 */
function frameScore(quality: FaceQuality, liveness: LivenessScores | undefined) {
  const { sharpness = 0, interocular = 0, yaw = 0 } = quality.measures
  const live = liveness ? (liveness.antispoof + liveness.liveness) / 2 : 1
  const parts = [
    Math.min(1, sharpness / 30),
    Math.min(1, interocular / 60),
    1 - Math.min(1, Math.abs(yaw) / 0.45),
    live,
  ]
  return 0.5 * quality.score + (0.5 * parts.reduce((sum, part) => sum + part, 0)) / parts.length
}

/** The head pose bin of a frame: five yaw steps by three pitch steps. */
function poseBin(candidate: { yaw: number; pitch: number }) {
  const yaw = Math.min(4, Math.max(0, Math.floor(((candidate.yaw + 0.45) / 0.9) * 5)))
  const pitch = Math.min(2, Math.max(0, Math.floor(((candidate.pitch - 0.35) / 0.55) * 3)))
  return yaw * 3 + pitch
}

/**
 * Keeps the candidate when it is among the best of its head pose (as
 * many as are wanted, and two more to stand in for frames FaceEnrolment
 * refuses), dropping the one it displaces: a bounded number of frames is
 * held however long the video, and every pose it shows keeps its best.
 */
function keep(candidates: Candidate[], candidate: Candidate, wanted: number) {
  const keptPerPose = wanted + 2
  const bin = poseBin(candidate)
  const same = candidates
    .filter((other) => poseBin(other) === bin && other.track === candidate.track)
    .sort((a, b) => a.score - b.score)
  if (same.length >= keptPerPose) {
    if (same[0].score >= candidate.score) return false
    candidates.splice(candidates.indexOf(same[0]), 1)
  }
  candidates.push(candidate)
  return true
}

/** The best frames so far, to show while the job runs. */
function bestFrames(candidates: Candidate[], wanted: number) {
  return [...candidates].sort((a, b) => b.score - a.score).slice(0, Math.max(wanted, 3))
}

/**
 * The best frame, then each next best frame whose pose differs enough
 * from those chosen; when the video shows too few poses, the best of the
 * rest. In order of preference, so that a frame FaceEnrolment refuses
 * makes way for the next.
 */
export function choose<Frame extends { score: number; yaw: number; pitch: number }>(
  candidates: Frame[],
  wanted: number
): Frame[] {
  const left = [...candidates].sort((a, b) => b.score - a.score)
  const chosen: Frame[] = []
  while (left.length > 0) {
    const distinct = left.findIndex((candidate) =>
      chosen.every(
        (other) =>
          Math.hypot(candidate.yaw - other.yaw, candidate.pitch - other.pitch) >= poseDistance
      )
    )
    const index = distinct >= 0 && chosen.length < wanted ? distinct : 0
    chosen.push(left.splice(index, 1)[0])
  }
  return chosen
}

/** Why the frames read give nothing to enrol, or null when they do. */
function judge(counters: Counters, tracks: Track[]): VideoRefusal | null {
  const { framesRead, framesWithFace, framesSeveralFaces, darkFrames } = counters
  const seen = framesWithFace + framesSeveralFaces
  if (framesRead === 0) {
    return { type: 'not_video', message: 'no frame of the video could be read' }
  }
  if (framesSeveralFaces > 0 && framesSeveralFaces >= seen * severalPeopleShare) {
    return {
      type: 'several_people',
      message: `${framesSeveralFaces} of ${framesRead} frames show several people; record the person alone`,
    }
  }
  const [first, second] = [...tracks].sort((a, b) => b.frames - a.frames)
  if (second && second.frames >= Math.max(2, framesWithFace * severalPeopleShare)) {
    return {
      type: 'several_people',
      message: `the video shows ${first.frames} frames of one person and ${second.frames} of another; record the person alone`,
    }
  }
  if (framesWithFace === 0) {
    if (darkFrames >= framesRead / 2) {
      return {
        type: 'too_dark',
        message: 'the video is too dark to find a face; record it in more light',
      }
    }
    return { type: 'no_face', message: `no face was found in ${framesRead} frames of the video` }
  }
  const dark = counters.issues.get('dark')
  if (dark && dark.count >= framesWithFace / 2) {
    return {
      type: 'too_dark',
      message: 'the face is too dark in the video; record it in more light',
    }
  }
  return null
}

/** The issues the engine found most often, as advice, for a video with no frame good enough. */
function adviceFor(issues: Map<string, { count: number; message: string }>) {
  return [...issues.values()]
    .sort((a, b) => b.count - a.count)
    .slice(0, 3)
    .map((issue) => issue.message)
    .join('; ')
}

function meanBrightness(image: DecodedImage) {
  let sum = 0
  let count = 0
  for (let index = 0; index < image.data.length; index += 3 * 64) {
    sum += 0.299 * image.data[index] + 0.587 * image.data[index + 1] + 0.114 * image.data[index + 2]
    count++
  }
  return count === 0 ? 0 : sum / count
}

function thumbnailName(id: number, frame: number) {
  return `video-${id}-frame-${frame}.jpg`
}

async function removeThumbnails(id: number) {
  for (const name of await VideoEnrolmentService.thumbnailsOf(id)) {
    await rm(join(VideoEnrolmentService.stagingDir(), name), { force: true })
  }
}

/** A 96-pixel square around the frame's face, as the person page shows faces. */
async function writeThumbnail(id: number, frame: VideoFrame, candidate: Candidate) {
  const folder = VideoEnrolmentService.stagingDir()
  const { width, height, data } = frame.image
  const bytes = await sharp(data, { raw: { width, height, channels: 3 } })
    .extract(faceSquare(candidate.box, width, height))
    .resize(96, 96)
    .jpeg({ quality: 80 })
    .toBuffer()
  const name = thumbnailName(id, frame.index)
  const partial = join(folder, `${name}.${randomUUID()}.partial`)
  await writeFile(partial, bytes, { mode: 0o600 })
  await rename(partial, join(folder, name))
}
