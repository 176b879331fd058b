import type { ApplicationService } from '@adonisjs/core/types'
import { GalleryIndex } from '#faces/gallery_index'

/**
 * One gallery index per process: it holds every face in memory and follows
 * changes over Redis, so every request of the process shares it. It loads
 * on the first search, never while the app boots.
 */
export default class RecognitionProvider {
  #gallery?: GalleryIndex

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton(GalleryIndex, () => {
      this.#gallery = new GalleryIndex()
      return this.#gallery
    })
  }

  async shutdown() {
    await this.#gallery?.close()
  }
}
