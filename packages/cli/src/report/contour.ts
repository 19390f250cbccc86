/** Iso-lines of a function sampled on a grid, for contour plots. */

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

export interface Segment {
  x: number;
  y: number;
  x2: number;
  y2: number;
  level: number;
}

/** Marching squares: iso-line segments of `grid[iy][ix]` (sampled at xs × ys) at each level. */
export function contourSegments(
  xs: readonly number[],
  ys: readonly number[],
  grid: readonly (readonly (number | null)[])[],
  levels: readonly number[],
): Segment[] {
  const out: Segment[] = [];
  for (let iy = 0; iy + 1 < ys.length; iy++) {
    for (let ix = 0; ix + 1 < xs.length; ix++) {
      const a = grid[iy][ix];
      const b = grid[iy][ix + 1];
      const c = grid[iy + 1][ix + 1];
      const d = grid[iy + 1][ix];
      if (!finite(a) || !finite(b) || !finite(c) || !finite(d)) continue;
      const x0 = xs[ix];
      const x1 = xs[ix + 1];
      const y0 = ys[iy];
      const y1 = ys[iy + 1];
      for (const level of levels) {
        const index = (a > level ? 1 : 0) | (b > level ? 2 : 0) | (c > level ? 4 : 0) | (d > level ? 8 : 0);
        if (index === 0 || index === 15) continue;
        const t = (p: number, q: number) => (q === p ? 0.5 : (level - p) / (q - p));
        // Edges: 0 bottom (a→b), 1 right (b→c), 2 top (d→c), 3 left (a→d).
        const edge = (e: number): [number, number] => {
          switch (e) {
            case 0:
              return [x0 + (x1 - x0) * t(a, b), y0];
            case 1:
              return [x1, y0 + (y1 - y0) * t(b, c)];
            case 2:
              return [x0 + (x1 - x0) * t(d, c), y1];
            default:
              return [x0, y0 + (y1 - y0) * t(a, d)];
          }
        };
        const crossed = [
          a > level !== b > level,
          b > level !== c > level,
          d > level !== c > level,
          a > level !== d > level,
        ];
        let pairs: [number, number][];
        if (index === 5 || index === 10) {
          const centerHigh = (a + b + c + d) / 4 > level;
          // 5: a and c high; 10: b and d high. Cut off the corners that the centre does not join.
          const cutAC = index === 5 ? !centerHigh : centerHigh;
          pairs = cutAC
            ? [
                [0, 3],
                [1, 2],
              ]
            : [
                [0, 1],
                [2, 3],
              ];
        } else {
          const es = [0, 1, 2, 3].filter((e) => crossed[e]);
          if (es.length !== 2) continue;
          pairs = [[es[0], es[1]]];
        }
        for (const [e1, e2] of pairs) {
          const [px, py] = edge(e1);
          const [qx, qy] = edge(e2);
          out.push({ x: px, y: py, x2: qx, y2: qy, level });
        }
      }
    }
  }
  return out;
}

export interface ContourVertex {
  line: number;
  level: number;
  order: number;
  x: number;
  y: number;
}

/** Joins iso-line segments that share end points into polylines (one `line` id each), vertices in order. */
export function stitchSegments(segments: readonly Segment[]): ContourVertex[] {
  const key = (level: number, x: number, y: number) => `${level}|${x}|${y}`;
  const at = new Map<string, number[]>();
  segments.forEach((s, i) => {
    for (const k of [key(s.level, s.x, s.y), key(s.level, s.x2, s.y2)]) {
      const list = at.get(k);
      if (list) list.push(i);
      else at.set(k, [i]);
    }
  });
  const used = new Uint8Array(segments.length);
  const out: ContourVertex[] = [];
  let line = 0;
  // Follows unused segments from (x, y) onwards; returns the points reached, not including (x, y).
  const walk = (level: number, x: number, y: number): [number, number][] => {
    const pts: [number, number][] = [];
    let cx = x;
    let cy = y;
    for (;;) {
      const next = (at.get(key(level, cx, cy)) ?? []).find((j) => !used[j]);
      if (next === undefined) return pts;
      used[next] = 1;
      const s = segments[next];
      [cx, cy] = s.x === cx && s.y === cy ? [s.x2, s.y2] : [s.x, s.y];
      pts.push([cx, cy]);
    }
  };
  segments.forEach((s, i) => {
    if (used[i]) return;
    used[i] = 1;
    const forward = walk(s.level, s.x2, s.y2);
    const backward = walk(s.level, s.x, s.y);
    const pts: [number, number][] = [...backward.reverse(), [s.x, s.y], [s.x2, s.y2], ...forward];
    pts.forEach(([x, y], order) => {
      out.push({ line, level: s.level, order, x, y });
    });
    line++;
  });
  return out;
}
