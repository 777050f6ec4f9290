/** Connected-component labelling of a binary mask (H x W row-major, non-zero = foreground). */

export interface Components {
  /** 0 for background, 1..count for the components, in raster order of their first pixel. */
  labels: Int32Array;
  count: number;
  /** areas[k] = pixel count of component k (areas[0] = background pixels). */
  areas: number[];
}

/** Labels components with 4- or 8-connectivity (default 8, as OpenCV's default). */
export function connectedComponents(
  mask: ArrayLike<number>,
  height: number,
  width: number,
  connectivity: 4 | 8 = 8,
): Components {
  if (mask.length !== height * width)
    throw new Error(`connectedComponents: mask has ${mask.length} pixels, ${height} x ${width} expected`);
  if (connectivity !== 4 && connectivity !== 8)
    throw new Error(`connectedComponents: connectivity must be 4 or 8, got ${connectivity}`);
  const labels = new Int32Array(height * width);
  const areas = [0];
  const stack = new Int32Array(height * width);
  let count = 0;
  for (let start = 0; start < labels.length; start++) {
    if (mask[start] === 0) {
      areas[0]++;
      continue;
    }
    if (labels[start] !== 0) continue;
    count++;
    let area = 0;
    let top = 0;
    stack[top++] = start;
    labels[start] = count;
    while (top > 0) {
      const i = stack[--top];
      area++;
      const y = (i / width) | 0;
      const x = i - y * width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || (connectivity === 4 && dx !== 0 && dy !== 0)) continue;
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const j = ny * width + nx;
          if (mask[j] !== 0 && labels[j] === 0) {
            labels[j] = count;
            stack[top++] = j;
          }
        }
      }
    }
    areas.push(area);
  }
  return { labels, count, areas };
}
