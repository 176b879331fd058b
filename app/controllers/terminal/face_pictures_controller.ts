import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { FacePictureLinks, facePicturePurpose } from '#services/terminal/face_picture_links'

/**
 * The enrolment photos behind getDbs' signed `picUrl` links.
 */
@inject()
export default class FacePicturesController {
  constructor(private pictures: FacePictureLinks) {}

  async show({ request, response, params }: HttpContext) {
    const signed = request.hasValidSignature(facePicturePurpose)
    const picture = await this.pictures.open(Number(params.id), signed)
    if (!picture.ok) return picture
    response.header('Content-Type', picture.contentType).header('Cache-Control', 'private')
    return response.download(picture.path)
  }
}
