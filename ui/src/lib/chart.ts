// Plain-SVG charts: the scales and tick marks that the consumption chart and the
// infrastructure timeline share. SVG attributes only (no style attributes), so the
// charts obey the CSP; colours come from classes in app.css, so they follow the theme.

/** A linear map from a domain onto a pixel range. */
export function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

export const DAY_MS = 86_400_000;

export function ms(ts: string): number {
  return new Date(ts).getTime();
}

/** About `n` round dates between two times: month starts when the span is long
 *  enough, else evenly spaced days. */
export function dateTicks(from: number, to: number, n = 5): number[] {
  const months = (to - from) / (30 * DAY_MS);
  const out: number[] = [];
  if (months >= 2) {
    // A step that divides the year, so the ticks stay evenly spaced across a new
    // year (every 5 months gave Nov, then Jan: labels on top of each other).
    const every = [1, 2, 3, 4, 6, 12].find((m) => m >= months / n) ?? 12 * Math.ceil(months / n / 12);
    const d = new Date(from);
    d.setDate(1);
    d.setHours(0, 0, 0, 0);
    d.setMonth(d.getMonth() + 1);
    while (d.getTime() <= to) {
      if (d.getMonth() % Math.min(every, 12) === 0 && (every <= 12 || d.getFullYear() % (every / 12) === 0)) out.push(d.getTime());
      d.setMonth(d.getMonth() + 1);
    }
    return out;
  }
  const step = Math.max(DAY_MS, Math.ceil((to - from) / n / DAY_MS) * DAY_MS);
  for (let t = from + step; t < to; t += step) out.push(t);
  return out;
}

/** A short axis label: "Mar 2027", or "12 Mar" for spans of weeks. */
export function tickLabel(t: number, long: boolean): string {
  return new Date(t).toLocaleDateString("en-GB", long ? { month: "short", year: "numeric" } : { day: "numeric", month: "short" });
}
