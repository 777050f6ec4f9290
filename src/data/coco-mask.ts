/**
 * COCO mask encodings, decoded and encoded here so that masks agree pixel for pixel with
 * pycocotools (the reference every COCO number is computed with).
 *
 * An RLE is a list of run lengths over the mask in column-major (Fortran) order, starting with a
 * background run (which may be 0). The compressed form is pycocotools' string: each run, from the
 * third on, stored as the difference to the run two before, written as a signed variable-length
 * integer with 5 payload bits per character (bit 0x20 = more characters follow, bit 0x10 of the last
 * character = sign), characters offset by 48 ('0').
 *
 * Polygons are rasterised the way pycocotools' rleFrPoly does it, so that areas match COCO's: the
 * vertices are scaled by 5 and rounded, every edge is walked on that fine grid, and wherever the
 * walk crosses the centre line of a pixel column (fine x = 5*col + 2) the row where the column's
 * inside part begins or ends is recorded; the sorted crossings become the run boundaries.
 */

// Aliases, not `Math.x`: under jest (a vm context) each global lookup in a hot loop costs ~100x.
const { abs, ceil, floor, max, min } = Math;

export interface Rle {
  height: number;
  width: number;
  /** Column-major run lengths, starting with background. Sum = height * width. */
  counts: Uint32Array;
}

/** The upsampling factor of pycocotools' polygon rasteriser; its rounding depends on it. */
const POLY_SCALE = 5;

/** C's (int) cast of a double: truncation toward zero. */
const cInt = Math.trunc;

/**
 * Rasterises one polygon `[x0, y0, x1, y1, ...]` (pixel coordinates, pixel (c, r) covering
 * [c, c+1) x [r, r+1)) into an RLE of an height x width mask.
 */
export function rleFromPolygon(xy: ArrayLike<number>, height: number, width: number): Rle {
  const nVerts = floor(xy.length / 2);
  // Vertices on the fine grid, closed.
  const fx = new Int32Array(nVerts + 1);
  const fy = new Int32Array(nVerts + 1);
  for (let j = 0; j < nVerts; j++) {
    fx[j] = cInt(POLY_SCALE * xy[2 * j] + 0.5);
    fy[j] = cInt(POLY_SCALE * xy[2 * j + 1] + 0.5);
  }
  fx[nVerts] = fx[0];
  fy[nVerts] = fy[0];

  // Dense boundary points on the fine grid, every edge walked from its start to its end along its
  // major axis (one point per fine step), the minor coordinate rounded from the lower end.
  let nPts = 0;
  for (let j = 0; j < nVerts; j++) {
    nPts += max(abs(fx[j] - fx[j + 1]), abs(fy[j] - fy[j + 1])) + 1;
  }
  const pu = new Int32Array(nPts);
  const pv = new Int32Array(nPts);
  let n = 0;
  for (let j = 0; j < nVerts; j++) {
    let x0 = fx[j];
    let x1 = fx[j + 1];
    let y0 = fy[j];
    let y1 = fy[j + 1];
    const dx = abs(x1 - x0);
    const dy = abs(y1 - y0);
    const xMajor = dx >= dy;
    // Interpolate from the lower end of the major axis so the rounding does not depend on the
    // direction the edge is walked; emit points in the original direction all the same.
    const reversed = xMajor ? x0 > x1 : y0 > y1;
    if (reversed) {
      [x0, x1] = [x1, x0];
      [y0, y1] = [y1, y0];
    }
    if (xMajor) {
      const slope = (y1 - y0) / dx;
      for (let d = 0; d <= dx; d++) {
        const t = reversed ? dx - d : d;
        pu[n] = x0 + t;
        pv[n] = cInt(y0 + slope * t + 0.5);
        n++;
      }
    } else {
      const slope = (x1 - x0) / dy;
      for (let d = 0; d <= dy; d++) {
        const t = reversed ? dy - d : d;
        pv[n] = y0 + t;
        pu[n] = cInt(x0 + slope * t + 0.5);
        n++;
      }
    }
  }

  // Where consecutive points step across a column centre, record the first inside row of that
  // column as a toggle position (column-major linear index).
  const toggles: number[] = [];
  for (let j = 1; j < n; j++) {
    if (pu[j] === pu[j - 1]) continue;
    const fineX = pu[j] < pu[j - 1] ? pu[j] : pu[j] - 1;
    const col = (fineX + 0.5) / POLY_SCALE - 0.5;
    if (floor(col) !== col || col < 0 || col > width - 1) continue;
    let row = (min(pv[j], pv[j - 1]) + 0.5) / POLY_SCALE - 0.5;
    if (row < 0) row = 0;
    else if (row > height) row = height;
    row = ceil(row);
    toggles.push(col * height + row);
  }
  toggles.push(height * width);
  toggles.sort((a, b) => a - b);

  // Differences between toggles are the runs; a zero difference means two toggles at one place,
  // which cancel: the run after them joins the run before.
  const diffs = new Array<number>(toggles.length);
  let prev = 0;
  for (let j = 0; j < toggles.length; j++) {
    diffs[j] = toggles[j] - prev;
    prev = toggles[j];
  }
  const runs: number[] = [diffs[0]];
  for (let j = 1; j < diffs.length;) {
    if (diffs[j] > 0) {
      runs.push(diffs[j++]);
    } else {
      j++;
      if (j < diffs.length) runs[runs.length - 1] += diffs[j++];
    }
  }
  return { height, width, counts: Uint32Array.from(runs) };
}

/** Union (or intersection) of masks of one size, in RLE form, without decoding them. */
export function rleMerge(rles: readonly Rle[], intersect = false): Rle {
  if (rles.length === 0) throw new Error('rleMerge: no masks to merge');
  const { height, width } = rles[0];
  for (const r of rles) {
    if (r.height !== height || r.width !== width) {
      throw new Error(`rleMerge: mask sizes differ (${height}x${width} vs ${r.height}x${r.width})`);
    }
  }
  let acc = canonicalRuns(rles[0].counts);
  for (let i = 1; i < rles.length; i++) acc = mergeTwo(acc, rles[i].counts, intersect);
  return { height, width, counts: Uint32Array.from(acc) };
}

/** Walks both run lists together and emits maximal runs of the combined value. */
function mergeTwo(a: ArrayLike<number>, b: ArrayLike<number>, intersect: boolean): number[] {
  const out: number[] = [];
  let ia = 0;
  let ib = 0;
  let remA = a.length > 0 ? a[0] : 0;
  let remB = b.length > 0 ? b[0] : 0;
  let valA = 0;
  let valB = 0;
  let cur = 0; // value of the run being built; RLEs start with background
  let runLen = 0;
  for (;;) {
    // Skip exhausted (or zero-length) runs.
    while (remA === 0 && ia + 1 < a.length) {
      remA = a[++ia];
      valA ^= 1;
    }
    while (remB === 0 && ib + 1 < b.length) {
      remB = b[++ib];
      valB ^= 1;
    }
    if (remA === 0 || remB === 0) break;
    const v = intersect ? valA & valB : valA | valB;
    const step = min(remA, remB);
    if (v !== cur) {
      out.push(runLen);
      runLen = 0;
      cur = v;
    }
    runLen += step;
    remA -= step;
    remB -= step;
  }
  out.push(runLen);
  return out;
}

/** Drops zero-length runs after the first (merging their neighbours), so runs are maximal. */
function canonicalRuns(counts: ArrayLike<number>): number[] {
  const out: number[] = [];
  let val = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    const v = i % 2;
    if (i === 0) {
      out.push(c);
      val = 0;
      continue;
    }
    if (c === 0) continue;
    if (v === val) out[out.length - 1] += c;
    else {
      out.push(c);
      val = v;
    }
  }
  return out;
}

/** Foreground pixel count. */
export function rleArea(rle: Rle): number {
  let area = 0;
  for (let i = 1; i < rle.counts.length; i += 2) area += rle.counts[i];
  return area;
}

/** Decodes to a row-major height*width mask of 0/1. */
export function rleToMask(rle: Rle): Uint8Array {
  const { height, width, counts } = rle;
  const mask = new Uint8Array(height * width);
  let pos = 0; // column-major position
  for (let i = 0; i < counts.length; i++) {
    const end = pos + counts[i];
    if (end > height * width) {
      throw new Error(`RLE runs sum past the ${height}x${width} mask (run ${i})`);
    }
    if (i % 2 === 1) {
      for (let p = pos; p < end; p++) {
        const col = floor(p / height);
        const row = p - col * height;
        mask[row * width + col] = 1;
      }
    }
    pos = end;
  }
  if (pos !== height * width) {
    throw new Error(`RLE runs sum to ${pos}, expected ${height}x${width} = ${height * width}`);
  }
  return mask;
}

/** Encodes a row-major mask (any non-zero = foreground) as a canonical RLE. */
export function rleFromMask(mask: ArrayLike<number>, height: number, width: number): Rle {
  if (mask.length !== height * width) {
    throw new Error(`rleFromMask: mask has ${mask.length} values, expected ${height}x${width}`);
  }
  const runs: number[] = [];
  let cur = 0;
  let len = 0;
  for (let col = 0; col < width; col++) {
    for (let row = 0; row < height; row++) {
      const v = mask[row * width + col] !== 0 ? 1 : 0;
      if (v !== cur) {
        runs.push(len);
        len = 0;
        cur = v;
      }
      len++;
    }
  }
  runs.push(len);
  return { height, width, counts: Uint32Array.from(runs) };
}

/** pycocotools' compressed RLE string. */
export function rleToString(rle: Rle): string {
  const { counts } = rle;
  const chars: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i] - (i > 2 ? counts[i - 2] : 0);
    for (;;) {
      // Arithmetic rather than bitwise ops: differences can exceed 32-bit signed range.
      const low = ((x % 32) + 32) % 32;
      x = (x - low) / 32;
      const more = low & 0x10 ? x !== -1 : x !== 0;
      chars.push((more ? low | 0x20 : low) + 48);
      if (!more) break;
    }
  }
  // fromCharCode in slices: one call with every code as an argument can overflow the stack.
  let out = '';
  for (let i = 0; i < chars.length; i += 8192) {
    out += String.fromCharCode(...chars.slice(i, i + 8192));
  }
  return out;
}

/**
 * Decodes pycocotools' compressed RLE string. `where` names the source (file and field) in errors.
 */
export function rleFromString(s: string, height: number, width: number, where = 'RLE string'): Rle {
  const runs: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    for (;;) {
      if (p >= s.length) throw new Error(`${where}: truncated compressed RLE at character ${p}`);
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) {
        throw new Error(`${where}: invalid character '${s[p]}' at ${p} in compressed RLE`);
      }
      x += (c & 0x1f) * 2 ** (5 * k);
      p++;
      k++;
      if (!(c & 0x20)) {
        if (c & 0x10) x -= 2 ** (5 * k); // sign-extend
        break;
      }
    }
    if (runs.length > 2) x += runs[runs.length - 2];
    if (x < 0) throw new Error(`${where}: compressed RLE decodes to a negative run (${x})`);
    runs.push(x);
  }
  const rle = { height, width, counts: Uint32Array.from(runs) };
  checkRunSum(rle, where);
  return rle;
}

function checkRunSum(rle: Rle, where: string): void {
  let total = 0;
  for (let i = 0; i < rle.counts.length; i++) total += rle.counts[i];
  if (total !== rle.height * rle.width) {
    throw new Error(
      `${where}: RLE runs sum to ${total}, expected ${rle.height}x${rle.width} = ${rle.height * rle.width}`,
    );
  }
}

/**
 * A COCO `segmentation` field (polygon list, uncompressed RLE `{size, counts: number[]}` or
 * compressed RLE `{size, counts: string}`) as one RLE of the image's size, as pycocotools'
 * annToRLE makes it (several polygons are united). `where` names file and field in errors.
 */
export function segmentationToRle(segmentation: unknown, height: number, width: number, where: string): Rle {
  if (Array.isArray(segmentation)) {
    if (segmentation.length === 0) throw new Error(`${where}: empty polygon list`);
    const rles = segmentation.map((poly, i) => {
      if (!Array.isArray(poly) || poly.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
        throw new Error(`${where}[${i}]: a polygon must be an array of finite numbers`);
      }
      if (poly.length < 6 || poly.length % 2 !== 0) {
        throw new Error(`${where}[${i}]: a polygon needs an even number (>= 6) of coordinates, got ${poly.length}`);
      }
      return rleFromPolygon(poly as number[], height, width);
    });
    return rleMerge(rles);
  }
  if (segmentation !== null && typeof segmentation === 'object') {
    const seg = segmentation as { size?: unknown; counts?: unknown };
    const size = seg.size;
    if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && (v as number) > 0)) {
      throw new Error(`${where}.size: expected [height, width] positive integers`);
    }
    const [h, w] = size as [number, number];
    if (h !== height || w !== width) {
      throw new Error(`${where}.size: [${h}, ${w}] differs from the image's [${height}, ${width}]`);
    }
    if (typeof seg.counts === 'string') return rleFromString(seg.counts, h, w, `${where}.counts`);
    if (Array.isArray(seg.counts)) {
      if (!seg.counts.every((v) => Number.isInteger(v) && (v as number) >= 0)) {
        throw new Error(`${where}.counts: expected non-negative integers`);
      }
      // Kept as given (as pycocotools keeps it); merges make runs canonical.
      const rle = { height: h, width: w, counts: Uint32Array.from(seg.counts as number[]) };
      checkRunSum(rle, `${where}.counts`);
      return rle;
    }
    throw new Error(`${where}.counts: expected a string (compressed RLE) or an array of run lengths`);
  }
  throw new Error(`${where}: expected a polygon list or an RLE object`);
}
