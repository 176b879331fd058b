/**
 * npm run bench:engine -- ../shared/data/faces-dev --compare-age-gender
 *
 * Every age and gender estimator on faces-dev's age_gender.json crops:
 * age MAE, gender accuracy and the milliseconds of the age/gender stage.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ImageDecoder } from '#faces/image_decoder'
import { ageGenderModels } from '#plugins/face_engine/age_gender'
import { option, readJson, startEngine } from './calibrate.js'

export async function compareAgeGender(folder: string) {
  const models = option('age-gender-models')?.split(',') ?? ageGenderModels
  const { cases } = await readJson<{ cases: { file: string; age: number; gender: string }[] }>(
    folder,
    'age_gender.json'
  )
  const decoder = new ImageDecoder()
  const images = await Promise.all(
    cases.map(async (entry) => {
      const decoded = await decoder.decode(await readFile(join(folder, entry.file)))
      if (!decoded.ok) throw new Error(`${entry.file}: ${decoded.error.message}`)
      return decoded.image
    })
  )
  const rows: string[][] = []
  for (const model of models) {
    const engine = await startEngine({ ageGender: model as (typeof ageGenderModels)[number] })
    let ageError = 0
    let gendersRight = 0
    let found = 0
    const milliseconds: number[] = []
    for (const [index, entry] of cases.entries()) {
      const outcome = await engine.call((driver) =>
        driver.analyse!({ image: images[index] }, { ageGender: true })
      )
      if (!outcome.ok) continue
      found++
      ageError += Math.abs(outcome.age! - entry.age)
      if (outcome.gender === entry.gender) gendersRight++
      milliseconds.push(outcome.timings.ageGender ?? Number.NaN)
    }
    await engine.stop()
    milliseconds.sort((a, b) => a - b)
    rows.push([
      model,
      (ageError / found).toFixed(2),
      `${((gendersRight / cases.length) * 100).toFixed(1)}%`,
      `${found} of ${cases.length}`,
      milliseconds[milliseconds.length >> 1].toFixed(1),
    ])
  }
  const header = ['estimator', 'age MAE (years)', 'gender accuracy', 'faces', 'ms (median)']
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((cells) => cells[column].length))
  )
  const line = (cells: string[]) =>
    `| ${cells.map((cell, index) => cell.padEnd(widths[index])).join(' | ')} |`
  console.log(`Age and gender on ${folder} (${cases.length} crops), one worker`)
  console.log(line(header))
  console.log(line(widths.map((width) => '-'.repeat(width))))
  for (const cells of rows) console.log(line(cells))
}
