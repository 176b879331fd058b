/**
 * Plane geometry shared by the engine's stages. Coordinates are continuous
 * pixel coordinates: pixel (i, j) covers [i, i + 1) × [j, j + 1), so its
 * centre is (i + 0.5, j + 0.5) and scaling an image scales coordinates.
 */

export type Point = [number, number]

/** x' = a·x + b·y + tx, y' = c·x + d·y + ty */
export interface Affine {
  a: number
  b: number
  c: number
  d: number
  tx: number
  ty: number
}

export interface Box {
  left: number
  top: number
  right: number
  bottom: number
}

export function applyAffine(t: Affine, [x, y]: Point): Point {
  return [t.a * x + t.b * y + t.tx, t.c * x + t.d * y + t.ty]
}

export function invertAffine(t: Affine): Affine {
  const det = t.a * t.d - t.b * t.c
  const a = t.d / det
  const b = -t.b / det
  const c = -t.c / det
  const d = t.a / det
  return { a, b, c, d, tx: -(a * t.tx + b * t.ty), ty: -(c * t.tx + d * t.ty) }
}

/** The transform that applies `first`, then `second`. */
export function composeAffine(second: Affine, first: Affine): Affine {
  return {
    a: second.a * first.a + second.b * first.c,
    b: second.a * first.b + second.b * first.d,
    c: second.c * first.a + second.d * first.c,
    d: second.c * first.b + second.d * first.d,
    tx: second.a * first.tx + second.b * first.ty + second.tx,
    ty: second.c * first.tx + second.d * first.ty + second.ty,
  }
}

/** Source pixels per destination pixel along each axis, on average. */
export function affineScale(t: Affine) {
  return Math.sqrt(Math.abs(t.a * t.d - t.b * t.c))
}

/**
 * The square window of side `size` pixels centred on `centre` and turned
 * `degrees` clockwise, as the transform from a `pixels`×`pixels` model
 * input to the image: what a model sees upright is turned that way in the
 * image.
 */
export function squareWindow(centre: Point, size: number, degrees: number, pixels: number): Affine {
  const scale = size / pixels
  const radians = (degrees * Math.PI) / 180
  const cos = Math.cos(radians) * scale
  const sin = Math.sin(radians) * scale
  const half = pixels / 2
  return {
    a: cos,
    b: -sin,
    c: sin,
    d: cos,
    tx: centre[0] - cos * half + sin * half,
    ty: centre[1] - sin * half - cos * half,
  }
}

/**
 * The similarity transform (rotation, uniform scale, translation) that
 * maps `from` onto `to` with the least squared error (Umeyama, 1991).
 */
export function estimateSimilarity(from: readonly Point[], to: readonly Point[]): Affine {
  const n = from.length
  let fx = 0
  let fy = 0
  let tx = 0
  let ty = 0
  for (let i = 0; i < n; i++) {
    fx += from[i][0] / n
    fy += from[i][1] / n
    tx += to[i][0] / n
    ty += to[i][1] / n
  }
  let dot = 0
  let cross = 0
  let spread = 0
  for (let i = 0; i < n; i++) {
    const ax = from[i][0] - fx
    const ay = from[i][1] - fy
    const bx = to[i][0] - tx
    const by = to[i][1] - ty
    dot += ax * bx + ay * by
    cross += ax * by - ay * bx
    spread += ax * ax + ay * ay
  }
  const a = dot / spread
  const c = cross / spread
  return { a, b: -c, c, d: a, tx: tx - a * fx + c * fy, ty: ty - c * fx - a * fy }
}

export function boundingBox(points: readonly Point[]): Box {
  let left = Infinity
  let top = Infinity
  let right = -Infinity
  let bottom = -Infinity
  for (const [x, y] of points) {
    left = Math.min(left, x)
    top = Math.min(top, y)
    right = Math.max(right, x)
    bottom = Math.max(bottom, y)
  }
  return { left, top, right, bottom }
}

export function boxArea(box: Box) {
  return Math.max(0, box.right - box.left) * Math.max(0, box.bottom - box.top)
}

export function intersectionOverUnion(first: Box, second: Box) {
  const overlap = boxArea({
    left: Math.max(first.left, second.left),
    top: Math.max(first.top, second.top),
    right: Math.min(first.right, second.right),
    bottom: Math.min(first.bottom, second.bottom),
  })
  const union = boxArea(first) + boxArea(second) - overlap
  return union > 0 ? overlap / union : 0
}

/**
 * Keeps the best-scoring item of every group that overlaps by more than
 * `threshold` (greedy non-maximum suppression).
 */
export function suppressOverlaps<T extends { box: Box; score: number }>(
  items: readonly T[],
  threshold: number
): T[] {
  const kept: T[] = []
  for (const item of [...items].sort((first, second) => second.score - first.score)) {
    if (kept.every((other) => intersectionOverUnion(item.box, other.box) <= threshold)) {
      kept.push(item)
    }
  }
  return kept
}

export function distance([ax, ay]: Point, [bx, by]: Point) {
  return Math.hypot(bx - ax, by - ay)
}

export function midpoint([ax, ay]: Point, [bx, by]: Point): Point {
  return [(ax + bx) / 2, (ay + by) / 2]
}

/** Clockwise angle in degrees, in [0, 360), of the vector from `from` to `to`. */
export function clockwiseDegrees(from: Point, to: Point) {
  const degrees = (Math.atan2(to[1] - from[1], to[0] - from[0]) * 180) / Math.PI
  return ((degrees % 360) + 360) % 360
}
