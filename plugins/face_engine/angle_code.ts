import type { AngleCode } from '#plugin-sdk'

/** Protocol code for each 30° step clockwise from upright, 0°, 30°, 60° … 330°. */
const codes: AngleCode[] = [1, 5, 6, 2, 7, 8, 4, 9, 10, 3, 11, 12]

export function angleCode(degrees: number): AngleCode {
  const step = Math.round((((degrees % 360) + 360) % 360) / 30) % 12
  return codes[step]
}
