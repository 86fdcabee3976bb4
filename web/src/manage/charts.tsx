/** Two small charts drawn as inline SVG: no chart library, readable by screen readers through a table twin. */

export interface Point {
  label: string;
  value: number;
}

const W = 640;
const H = 220;
const PAD = { top: 12, right: 24, bottom: 28, left: 56 };

function ticks(max: number): number[] {
  if (max <= 0) return [0];
  const step = 10 ** Math.floor(Math.log10(max));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => max / s <= 5) ?? step * 10;
  const out: number[] = [];
  for (let v = 0; v <= max + nice / 2; v += nice) out.push(v);
  return out;
}

export function LineChart({
  points,
  title,
  format,
}: {
  points: Point[];
  title: string;
  format: (v: number) => string;
}) {
  const max = Math.max(0, ...points.map((p) => p.value));
  const scale = ticks(max);
  const top = scale.at(-1) || 1;
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (points.length <= 1 ? innerW / 2 : (i * innerW) / (points.length - 1));
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const line = points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`)
    .join(' ');
  const area = points.length > 0 ? `${line} L${x(points.length - 1)},${y(0)} L${x(0)},${y(0)} Z` : '';
  const every = Math.max(1, Math.ceil(points.length / 6));
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
      {scale.map((v) => (
        <g key={v}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} class="grid-line" />
          <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end" class="axis">
            {format(v)}
          </text>
        </g>
      ))}
      <path d={area} class="area" />
      <path d={line} class="line" />
      {points.map((p, i) =>
        i % every === 0 || i === points.length - 1 ? (
          <text key={p.label} x={x(i)} y={H - 8} text-anchor="middle" class="axis">
            {p.label}
          </text>
        ) : null,
      )}
      {points.map((p, i) => (
        <circle key={`dot-${p.label}`} cx={x(i)} cy={y(p.value)} r={2.5} class="dot">
          <title>
            {p.label}: {format(p.value)}
          </title>
        </circle>
      ))}
    </svg>
  );
}

export function BarChart({
  points,
  title,
  format,
}: {
  points: Point[];
  title: string;
  format: (v: number) => string;
}) {
  const rowH = 26;
  const labelW = 200;
  const height = Math.max(rowH, points.length * rowH) + 8;
  const max = Math.max(0, ...points.map((p) => p.value)) || 1;
  const barW = W - labelW - 90;
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${height}`} role="img" aria-label={title}>
      {points.map((p, i) => {
        const y = 4 + i * rowH;
        const width = Math.max(2, (p.value / max) * barW);
        const name = p.label.length > 28 ? `${p.label.slice(0, 27)}…` : p.label;
        return (
          <g key={p.label}>
            <text x={labelW - 8} y={y + 17} text-anchor="end" class="axis">
              {name}
            </text>
            <rect x={labelW} y={y + 4} width={width} height={rowH - 8} rx={3} class="bar" />
            <text x={labelW + width + 6} y={y + 17} class="axis">
              {format(p.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
