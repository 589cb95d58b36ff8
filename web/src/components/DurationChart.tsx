import type { Job } from "../types/api";
import { formatDuration, secondsBetween } from "../lib/format";

function colour(status: string): string {
  if (status === "Completed") return "#16a34a";
  if (status.startsWith("Failed")) return "#dc2626";
  if (status === "Cancelled") return "#d97706";
  return "#94a3b8";
}

/** Bars of build duration, oldest left, coloured by outcome. */
export function DurationChart({ jobs }: { jobs: Job[] }) {
  const points = jobs
    .map((j) => ({ job: j, seconds: secondsBetween(j.started_at, j.finished_at) }))
    .filter((p): p is { job: Job; seconds: number } => p.seconds !== null)
    .reverse();
  if (points.length === 0)
    return <p className="text-sm text-slate-500">No finished builds to chart yet.</p>;
  const max = Math.max(...points.map((p) => p.seconds), 1);
  const width = 320;
  const height = 80;
  // thin bars even with few builds, so the chart reads as a series
  const bar = Math.min(width / points.length, 24);
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      className="h-24 w-full"
      role="img"
      aria-label={`Durations of the last ${points.length} builds`}
    >
      {points.map((p, i) => {
        const h = Math.max(2, (p.seconds / max) * (height - 4));
        return (
          <rect
            key={p.job.job_id}
            x={i * bar + 1}
            y={height - h}
            width={Math.max(1, bar - 2)}
            height={h}
            fill={colour(p.job.status)}
          >
            <title>
              {p.job.motherboard_model} · {p.job.status} · {formatDuration(p.seconds)}
            </title>
          </rect>
        );
      })}
    </svg>
  );
}
