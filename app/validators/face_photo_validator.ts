import vine from '@vinejs/vine'
import terminalConfig from '#config/terminal'

/** A photo uploaded on the person page, held to the same byte limit as a terminal's. */
export const facePhotoValidator = vine.create({
  photo: vine.file({ size: terminalConfig.images.maxBytes }),
})
