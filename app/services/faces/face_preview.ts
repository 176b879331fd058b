import { inject } from '@adonisjs/core'
import type { FaceBox, QualityIssue } from '#plugin-sdk'
import { backgroundFaceShare } from '#faces/face_enrolment'
import type { PhotoFailure } from '#faces/photo_decoding'
import { RecognitionEngine, type RecognitionFailure } from '#faces/recognition_engine'

/** What the engine makes of one frame of a live camera picture. */
export type FramePreview =
  | {
      ok: true
      width: number
      height: number
      /** The faces found, largest first. */
      faces: FaceBox[]
      /** More than one person in front of the camera (faces in the background aside). */
      several: boolean
      /** What would keep the largest face from being enrolled; none when it would do. */
      issues: QualityIssue['code'][]
    }
  | { ok: false; error: PhotoFailure | RecognitionFailure }

/**
 * The enrolment checks a webcam picture will meet, run on a small frame of
 * the live picture before it is taken: the faces the engine finds and the
 * quality of the largest one, so that the page can frame the face and say
 * what to change (come closer, more light, look at the camera). Nothing is
 * stored and no feature is computed.
 */
@inject()
export class FacePreview {
  constructor(private recognition: RecognitionEngine) {}

  async look(bytes: Uint8Array): Promise<FramePreview> {
    return this.recognition.withPicture(bytes, 'frame', async ({ picture }) => {
      const { width, height } = picture.image
      const detected = await picture.detect()
      if (!detected.ok) {
        if (detected.error.type !== 'no_face') return detected
        return { ok: true as const, width, height, faces: [], several: false, issues: [] }
      }
      const faces = detected.faces.map((face) => face.box)
      const widest = faces[0].right - faces[0].left
      const people = faces.filter((box) => box.right - box.left >= widest * backgroundFaceShare)
      const analysed = await picture.analyse({ quality: true }, faces[0])
      if (!analysed.ok) return analysed
      const issues = analysed.quality?.issues.map((issue) => issue.code) ?? []
      return { ok: true as const, width, height, faces, several: people.length > 1, issues }
    })
  }
}
