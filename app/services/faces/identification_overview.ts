import { readFile } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import terminalConfig from '#config/terminal'
import { expectedFpir, identificationThreshold } from '#faces/open_set_identification'

/** What a model's calibration records of how it was measured, as the manifest has it. */
type Measured = {
  dataset?: string
  farAtThreshold?: number
  frrAtThreshold?: number
  identification?: {
    dataset: string
    galleryFaces: number
    points: { targetFpir: number; threshold: number; fpir: number; tpir: number }[]
  }
}

/**
 * faceIdentify's decision as the Settings page shows it: per embedding
 * model with enrolled faces, the gallery's size (faces, and templates of
 * people with several), the threshold in force
 * for the site's target and the FPIR it gives by the calibration, and what
 * the calibration measured (1:1 error rates at 0.6; TPIR and FPIR of a
 * 1:N run near the target, when the calibration has one).
 */
export class IdentificationOverview {
  async current() {
    const { targetFpir, margin } = terminalConfig.identification
    const rows: { model_id: string; faces: number | string }[] = await db
      .from('faces')
      .select('model_id')
      .count('* as faces')
      .groupBy('model_id')
      .orderBy('model_id')
    const templates = await this.#templates()
    const measured = await this.#measured()
    const models = rows.map((row) => {
      const faces = Number(row.faces)
      const people = templates.get(row.model_id) ?? 0
      const searched = faces + people
      const threshold = identificationThreshold(searched, targetFpir)
      const calibration = measured[row.model_id] ?? null
      const points = calibration?.identification?.points ?? []
      const nearest = points.reduce<(typeof points)[number] | null>(
        (best, point) =>
          !best || Math.abs(point.targetFpir - targetFpir) < Math.abs(best.targetFpir - targetFpir)
            ? point
            : best,
        null
      )
      return {
        model: row.model_id,
        faces,
        templates: people,
        threshold,
        expectedFpir: expectedFpir(searched, threshold),
        reachable: expectedFpir(searched, threshold) <= targetFpir * 1.000001,
        calibration,
        identification: nearest && {
          ...nearest,
          dataset: calibration!.identification!.dataset,
          galleryFaces: calibration!.identification!.galleryFaces,
        },
      }
    })
    return { targetFpir, margin, models }
  }

  /** Per model, the people with two or more faces: each is searched as a template too. */
  async #templates() {
    const rows: { model_id: string; people: number | string }[] = await db
      .from(
        db
          .from('faces')
          .select('model_id', 'person_id')
          .groupBy('model_id', 'person_id')
          .havingRaw('count(*) >= 2')
          .as('several')
      )
      .select('model_id')
      .count('* as people')
      .groupBy('model_id')
    return new Map(rows.map((row) => [row.model_id, Number(row.people)]))
  }

  async #measured(): Promise<Record<string, Measured>> {
    try {
      const manifest = JSON.parse(await readFile(app.makePath('models/manifest.json'), 'utf8')) as {
        models: Record<string, { calibration?: { measured?: Measured } }>
        fused?: Record<string, { calibration?: { measured?: Measured } }>
      }
      return Object.fromEntries(
        [...Object.entries(manifest.models), ...Object.entries(manifest.fused ?? {})].map(
          ([id, entry]) => [id, entry.calibration?.measured ?? {}]
        )
      )
    } catch {
      return {}
    }
  }
}
