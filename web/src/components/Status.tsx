import type { JobStatus } from "../types/api";

const COLOURS: Record<JobStatus, string> = {
  Queued: "bg-slate-100 text-slate-800 border-slate-300",
  Processing_Build: "bg-blue-100 text-blue-800 border-blue-300",
  Pending_Validation: "bg-indigo-100 text-indigo-800 border-indigo-300",
  Processing_Validation: "bg-indigo-100 text-indigo-800 border-indigo-300",
  Completed: "bg-green-100 text-green-800 border-green-300",
  Failed_Build: "bg-red-100 text-red-800 border-red-300",
  Failed_Validation: "bg-red-100 text-red-800 border-red-300",
  Cancelled: "bg-amber-100 text-amber-800 border-amber-300",
};

export function StatusBadge({ status }: { status: JobStatus }) {
  const colour = COLOURS[status] ?? "bg-slate-100 text-slate-800 border-slate-300";
  return (
    <span
      className={`inline-block rounded border px-2 py-0.5 text-xs font-semibold ${colour}`}
      data-testid="status-badge"
    >
      {status.replace(/_/g, " ")}
    </span>
  );
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const pct = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      className="h-3 w-full overflow-hidden rounded bg-slate-200"
    >
      <div className="h-full bg-blue-600 transition-[width]" style={{ width: `${pct}%` }} />
    </div>
  );
}
