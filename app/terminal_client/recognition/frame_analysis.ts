import type { DecodedImage, EngineDriver, FaceAnalysis } from '#plugin-sdk'

/** One engine call as the plugin host makes it (`instance.use`, or a test harness's `call`). */
export type EngineCall = <T>(work: (driver: EngineDriver) => Promise<T>) => Promise<T>

/**
 * What the passage tracker needs of a frame, in two engine calls: every
 * face's box, eyes and pose from `detect` (so a second person close by is
 * seen), then quality and passive liveness scores for the largest face
 * only, looked for around its box. A frame without a face is an empty
 * list; a largest face `analyse` no longer finds keeps its detection,
 * which the tracker reads as not yet good enough. `everyFace: false`
 * skips `detect` (a third of the time, see `npm run bench:passage`) where
 * a second face close by need not be told to wait: only the largest face
 * is then known.
 */
export async function analyseFrame(
  call: EngineCall,
  image: DecodedImage,
  options: { everyFace?: boolean } = {}
): Promise<FaceAnalysis[]> {
  if (options.everyFace === false) {
    const analysed = await call((driver) =>
      driver.analyse!({ image }, { quality: true, liveness: true })
    )
    return analysed.ok ? [analysed] : []
  }
  const found = await call((driver) => driver.detect!({ image }))
  if (!found.ok) return []
  const [largest, ...others] = found.faces
  const analysed = await call((driver) =>
    driver.analyse!({ image, face: largest.box }, { quality: true, liveness: true })
  )
  const first: FaceAnalysis = analysed.ok ? analysed : { face: largest, timings: {} }
  return [first, ...others.map((face) => ({ face, timings: {} }))]
}
