import { readFile } from 'node:fs/promises'
import { inject } from '@adonisjs/core'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Face from '#models/face'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { toSqlDateTime } from '#services/sql_time'
import { FaceDbRevision } from '#faces/face_db_revision'
import { embeddingBytes, storedFeature } from '#faces/face_data'
import { FacePhotoAnalyser } from '#faces/face_photo_analyser'
import { GalleryIndex } from '#faces/gallery_index'
import { MediaStore } from '#faces/media_store'
import { ModelInForce } from '#faces/model_in_force'
import { withDecodedPhoto } from '#faces/photo_decoding'

/** What one run did: features computed and staged here, and the switch if it made it. */
export type ReembeddingReport = {
  target: string
  /** Faces whose feature of the target this run computed (a resumed run skips those staged before). */
  staged: number
  /** Faces whose photo gave no feature (listed for re-enrolment). */
  unavailable: number
  /** Faces moved to the target's features by this run's switch or catch-up. */
  switched: number
  /** Whether this run made the target the model in force. */
  modelSwitched: boolean
}

export type ReembeddingProgress = {
  modelInForce: string | null
  configuredModel: string | null
  targetModel: string | null
  /** Faces stored. */
  total: number
  /** Faces with a feature of the target: staged, or already of it. */
  done: number
  /** Faces whose photo gave no feature of the target. */
  failed: number
  startedAt: string | null
  switchedAt: string | null
  lastError: string | null
}

/** A face that cannot be compared with the model in force until its person is enrolled again. */
export type FaceToReenrol = {
  faceId: number
  personId: number
  username: string
  displayName: string
  model: string
  reason: string
}

/**
 * A photo that can no longer give a feature (gone, or no face the
 * engine finds in it any more), as opposed to an engine that is away,
 * which the job's retries wait out.
 */
class LastingFailure extends Error {}

/** The switch found faces without a staged feature (enrolled meanwhile): stage them first. */
class NotReady extends Error {}

/**
 * Nothing for the switch to write: the target is in force and no face is
 * left to move, or another run's target replaced this one's.
 */
class NothingToMove extends Error {}

/**
 * Brings the stored faces to a new recognition model without ever leaving
 * them unsearchable. The faces keep the model in force (ModelInForce)
 * while a job computes, from each face's stored photo and in the same box,
 * its feature of the target model and stages it in `face_features`, a
 * batch at a time; faces enrolled meanwhile are picked up by the same
 * loop. Once every face has a staged feature, or is listed because its
 * photo gives none, one transaction moves the staged features into the
 * faces, records the target as the model in force and marks every changed
 * person for device sync; then every process's gallery loads the new
 * features. The staged rows are the progress: a run stopped anywhere
 * continues with the faces still without one, and runs at the same time
 * only repeat work, since a face's staged feature is unique.
 *
 * Faces whose photo gives no feature keep their old features at the
 * switch: they are not compared any more (the gallery and enrolment use
 * the model in force only) and stay listed, with their people, until
 * those are enrolled again, or until the model they are in is back in force.
 */
@inject()
export class FaceReembedding {
  /** Faces staged per database write; the job reports progress after each batch. */
  static batchSize = 25

  constructor(
    private analyser: FacePhotoAnalyser,
    private media: MediaStore,
    private revisions: FaceDbRevision,
    private audit: AuditTrail,
    private gallery: GalleryIndex,
    private models: ModelInForce
  ) {}

  /**
   * Whether the faces must be brought to `configured`, the model the
   * server's engine embeds with; records it for the Settings page and the
   * command. Null when they are in it already.
   */
  async needed(configured: string) {
    await this.models.update({ configuredModel: configured })
    const state = await this.models.state()
    if (state.modelInForce === null || state.modelInForce === configured) return null
    return { target: configured, jobId: `reembed-${state.generation}-${configured}` }
  }

  /**
   * Queues the re-embedding to `configured` (else the model the server's
   * engine last said it is configured with) when the faces are in another
   * model; once per switch, however many processes or operators ask, since
   * the job id names the switch; a run of it that failed for good is
   * retried. Null when there is nothing to do.
   */
  async start(configured: string | null, actor: Actor) {
    const state = await this.models.state()
    const model = configured ?? state.configuredModel
    if (!model) return null
    const needed = await this.needed(model)
    if (!needed) return null
    const queue = await app.container.make('queue')
    const failed = await queue.queue.getJob(needed.jobId)
    if (failed && (await failed.isFailed())) {
      await failed.retry()
      return needed
    }
    const { default: ReembedFacesJob } = await import('#jobs/reembed_faces_job')
    await queue.dispatch(ReembedFacesJob, { target: needed.target, actor }, { jobId: needed.jobId })
    return needed
  }

  /**
   * Stages the target's feature of every face that lacks one, then
   * switches; a run whose target another run has replaced since (the
   * configuration changed again) stops after its batch and never
   * switches. With the target in force already, moves faces enrolled with
   * the old model around the switch (a late catch-up) and changes nothing
   * else, so a repeated run is harmless.
   */
  async run(
    actor: Actor,
    target: string,
    onBatch?: (progress: ReembeddingProgress) => Promise<unknown> | void,
    options: { catchUp?: boolean } = {}
  ): Promise<ReembeddingReport> {
    const report: ReembeddingReport = {
      target,
      staged: 0,
      unavailable: 0,
      switched: 0,
      modelSwitched: false,
    }
    const state = await this.models.state()
    if (options.catchUp && state.modelInForce !== target) return report
    if (state.modelInForce === null) {
      await this.models.update({ modelInForce: target })
      ModelInForce.forget()
      return report
    }
    if (state.modelInForce !== target) await this.#begin(target)

    for (;;) {
      for (;;) {
        const batch = await this.#facesWithoutFeature(target, FaceReembedding.batchSize)
        if (batch.length === 0) break
        const staged = await this.#stage(batch, target)
        report.staged += staged.computed
        report.unavailable += staged.unavailable
        const progress = await this.progress()
        if (progress.targetModel !== target && progress.modelInForce !== target) return report
        await onBatch?.(progress)
      }
      try {
        const switched = await this.#switch(actor, target)
        report.switched = switched.moved
        report.modelSwitched = switched.modelSwitched
        return report
      } catch (error) {
        if (error instanceof NothingToMove) return report
        if (!(error instanceof NotReady)) throw error
      }
    }
  }

  /**
   * A new run for `target` starts clean: features staged for another
   * target (the configuration changed again meanwhile) are dropped, and
   * faces listed in an earlier run for this one are tried again. A run
   * resumed after a crash keeps everything staged.
   */
  async #begin(target: string) {
    const state = await this.models.state()
    if (state.targetModel === target && state.startedAt) return
    await db.transaction(async (trx) => {
      await trx.from('face_features').whereNot('model_id', target).delete()
      await trx.from('face_features').where('model_id', target).whereNull('embedding').delete()
      await this.models.update(
        { targetModel: target, startedAt: toSqlDateTime(), lastError: null },
        trx
      )
    })
  }

  /** Faces not yet of `target` with nothing staged for it, oldest first. */
  #facesWithoutFeature(target: string, limit: number, client?: TransactionClientContract) {
    return Face.query({ client })
      .whereNot('model_id', target)
      .whereNotExists((staged) =>
        staged
          .from('face_features')
          .whereColumn('face_features.face_id', 'faces.id')
          .where('face_features.model_id', target)
      )
      .orderBy('id')
      .limit(limit)
  }

  /**
   * One face at a time, so that a busy engine keeps a worker for the
   * terminals; the batch lands in one write, and a feature someone else
   * staged meanwhile is kept.
   */
  async #stage(faces: Face[], target: string) {
    const rows: Record<string, unknown>[] = []
    let unavailable = 0
    for (const face of faces) {
      const row = { face_id: face.id, model_id: target, created_at: toSqlDateTime() }
      try {
        const vector = await this.#feature(face, target)
        rows.push({
          ...row,
          embedding: embeddingBytes(vector),
          dimension: vector.length,
          failure: null,
        })
      } catch (error) {
        if (!(error instanceof LastingFailure)) throw error
        rows.push({ ...row, embedding: null, dimension: null, failure: error.message })
        unavailable++
      }
    }
    await db.table('face_features').insert(rows).onConflict(['face_id', 'model_id']).ignore()
    return { computed: rows.length, unavailable }
  }

  /** The target's feature of the face in its stored photo, in the box it was enrolled from. */
  async #feature(face: Face, target: string) {
    const photo = await this.media.locate(face.imagePath)
    if (!photo) throw new LastingFailure('the enrolment photo was not kept')
    const bytes = await readFile(photo.path)
    const analysed = await withDecodedPhoto(bytes, 'the enrolment photo', (decoded) =>
      this.analyser.analyse(decoded.image, face.box ?? undefined, target)
    )
    if (analysed.ok) {
      if (analysed.chosen.feature.model !== target) {
        throw new Error(
          `the engine made a feature of ${analysed.chosen.feature.model}, not of ${target}`
        )
      }
      return analysed.chosen.feature.vector
    }
    const { type, message } = analysed.error
    if (type === 'no_face' || type === 'unreadable_file' || type === 'not_image') {
      throw new LastingFailure(message)
    }
    throw new Error(message)
  }

  /**
   * The switch, in one transaction that first bumps the face-db revision,
   * whose row lock waits for enrolments under way and holds back new ones
   * until it commits; then no face may lack a staged feature (NotReady
   * otherwise). With the target in force already, it moves the faces
   * enrolled with the old model around the switch.
   */
  async #switch(actor: Actor, target: string) {
    const outcome = await db.transaction(async (trx) => {
      const revision = await this.revisions.bump(trx)
      const state = await this.models.state(trx)
      const from = state.modelInForce!
      const modelSwitched = from !== target
      if (modelSwitched && state.targetModel !== target) throw new NothingToMove()
      const missing = await this.#facesWithoutFeature(target, 1, trx)
      if (missing.length > 0) throw new NotReady()

      const staged = trx
        .from('face_features')
        .where('model_id', target)
        .whereNotNull('embedding')
        .select('face_id')
      const moving = await trx
        .from('faces')
        .whereIn('id', staged)
        .whereNot('model_id', target)
        .select('id', 'person_id')
      if (!modelSwitched && moving.length === 0) throw new NothingToMove()
      await trx
        .from('people')
        .whereIn(
          'id',
          trx.from('faces').whereIn('id', staged).whereNot('model_id', target).select('person_id')
        )
        .update({ revision })
      const feature = (column: string) =>
        trx.raw(
          `(select ${column} from face_features where face_features.face_id = faces.id and face_features.model_id = ?)`,
          [target]
        )
      await trx
        .from('faces')
        .whereIn('id', staged)
        .whereNot('model_id', target)
        .update({
          embedding: feature('embedding'),
          dimension: feature('dimension'),
          model_id: target,
        })
      await trx.from('face_features').where('model_id', target).whereNotNull('embedding').delete()
      const unavailable = await trx
        .from('face_features')
        .where('model_id', target)
        .count('* as total')
        .first()
      if (modelSwitched) {
        await this.models.update(
          {
            modelInForce: target,
            targetModel: null,
            generation: state.generation + 1,
            switchedAt: toSqlDateTime(),
            startedAt: null,
            lastError: null,
          },
          trx
        )
      }
      await this.audit.record(
        actor,
        {
          action: 'face.reembed',
          subjectType: 'face_model',
          subjectLabel: target,
          before: { model: from },
          after: {
            model: target,
            faces: moving.length,
            unavailable: Number(unavailable?.total ?? 0),
          },
        },
        trx
      )
      return { moved: moving as { id: number; person_id: number }[], modelSwitched }
    })
    if (outcome.modelSwitched) {
      await this.gallery.modelSwitched(target)
    } else {
      for (const face of outcome.moved) {
        const stored = await Face.find(face.id)
        if (stored?.modelId !== target) continue
        await this.gallery.faceAdded({
          faceId: stored.id,
          personId: stored.personId,
          feature: storedFeature(stored),
        })
      }
    }
    return { moved: outcome.moved.length, modelSwitched: outcome.modelSwitched }
  }

  /** A job that failed for good leaves its reason for the Settings page. */
  async failed(reason: string) {
    await this.models.update({ lastError: reason.slice(0, 2000) })
  }

  /** Where the re-embedding stands; `configured` is the running engine's model, when one runs. */
  async progress(configured?: string | null): Promise<ReembeddingProgress> {
    const state = await this.models.state()
    const total = await countOf(db.from('faces'))
    const target = state.targetModel
    let done = 0
    let failed = 0
    if (target) {
      const current = await countOf(db.from('faces').where('model_id', target))
      const staged = await countOf(
        db.from('face_features').where('model_id', target).whereNotNull('embedding')
      )
      done = current + staged
      failed = await countOf(
        db.from('face_features').where('model_id', target).whereNull('embedding')
      )
    }
    return {
      modelInForce: state.modelInForce,
      configuredModel: configured ?? state.configuredModel,
      targetModel: target,
      total,
      done,
      failed,
      startedAt: state.startedAt,
      switchedAt: state.switchedAt,
      lastError: state.lastError,
    }
  }

  /**
   * Faces to enrol again: those left in another model than the one in
   * force, and, during a re-embedding, those whose photo gave no feature
   * of the target; with the reason when the job recorded one.
   */
  async toReenrol(limit = 200): Promise<FaceToReenrol[]> {
    const state = await this.models.state()
    if (!state.modelInForce) return []
    const rows = await db
      .from('faces')
      .join('people', 'people.id', 'faces.person_id')
      .where((query) => {
        query.whereNot('faces.model_id', state.modelInForce!)
        if (state.targetModel) {
          query.orWhereExists((staged) =>
            staged
              .from('face_features')
              .whereColumn('face_features.face_id', 'faces.id')
              .where('face_features.model_id', state.targetModel!)
              .whereNull('face_features.embedding')
          )
        }
      })
      .select(
        'faces.id',
        'faces.person_id',
        'faces.model_id',
        'people.username',
        'people.display_name'
      )
      .orderBy('people.username')
      .orderBy('faces.id')
      .limit(limit)
    const failures = new Map<number, string>()
    const recorded = await db
      .from('face_features')
      .whereIn(
        'face_id',
        rows.map((row) => row.id)
      )
      .whereNull('embedding')
      .orderBy('id')
      .select('face_id', 'failure')
    for (const row of recorded) failures.set(row.face_id, row.failure)
    return rows.map((row) => ({
      faceId: row.id,
      personId: row.person_id,
      username: row.username,
      displayName: row.display_name,
      model: row.model_id,
      reason: failures.get(row.id) ?? `its features are of ${row.model_id}`,
    }))
  }
}

async function countOf(query: ReturnType<typeof db.from>) {
  const row = await query.count('* as total').first()
  return Number(row?.total ?? 0)
}
