import { signedUrlFor } from '@adonisjs/core/services/url_builder'
import terminalConfig from '#config/terminal'
import Face from '#models/face'
import { MediaStore } from '#faces/media_store'
import type { TerminalFailure } from '#services/terminal/protocol'

export const facePicturePurpose = 'face-picture'

export type FacePicture =
  { ok: true; path: string; contentType: string } | { ok: false; error: TerminalFailure }

/**
 * Links to enrolment photos that a terminal downloads without a session:
 * signed with the app key and valid for FACE_PICTURE_URL_TTL seconds.
 */
export class FacePictureLinks {
  constructor(
    private media = new MediaStore(),
    private ttlSeconds = terminalConfig.pictureUrlTtlSeconds
  ) {}

  urlFor(faceId: number, baseUrl: string) {
    return signedUrlFor(
      'terminal.pictures',
      { id: faceId },
      {
        expiresIn: `${this.ttlSeconds}s`,
        purpose: facePicturePurpose,
        prefixUrl: baseUrl,
      }
    )
  }

  /**
   * The photo a link points to. An expired or altered link cannot be told
   * apart (both fail the signature) and is refused the same way.
   */
  async open(faceId: number, signatureValid: boolean): Promise<FacePicture> {
    if (!signatureValid) {
      return {
        ok: false,
        error: {
          type: 'link_expired',
          message: 'this picture link is expired or altered; getDbs gives fresh ones',
        },
      }
    }
    const face = await Face.find(faceId)
    const file = await this.media.locate(face?.imagePath ?? null)
    if (!file)
      return { ok: false, error: { type: 'not_found', message: 'this face has no stored photo' } }
    return { ok: true, ...file }
  }
}
