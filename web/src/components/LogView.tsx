import { useEffect, useRef, useState } from "react";
import type { LogLine } from "../types/api";

const LEVELS = ["all", "normal", "verbose", "warning", "error"] as const;

function levelColour(level: string): string {
  if (level === "error") return "text-red-300";
  if (level === "warning" || level === "warn") return "text-amber-300";
  if (level === "verbose" || level === "debug") return "text-slate-400";
  return "text-slate-100";
}

/** A log with a level filter; follows new lines unless paused or scrolled up. */
export function LogView({ lines, live }: { lines: LogLine[]; live: boolean }) {
  const [level, setLevel] = useState<(typeof LEVELS)[number]>("all");
  const [paused, setPaused] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const shown = level === "all" ? lines : lines.filter((l) => l.level === level);

  useEffect(() => {
    const el = box.current;
    if (el && !paused) el.scrollTop = el.scrollHeight;
  }, [shown.length, paused]);

  return (
    <div>
      <div className="mb-2 flex flex-wrap items-center gap-3 text-sm">
        <label className="flex items-center gap-2">
          <span>Level</span>
          <select
            className="input w-auto py-0.5"
            value={level}
            onChange={(e) => setLevel(e.target.value as (typeof LEVELS)[number])}
          >
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn py-0.5" onClick={() => setPaused((p) => !p)}>
          {paused ? "Resume autoscroll" : "Pause autoscroll"}
        </button>
        <span className="text-slate-500" aria-live="polite">
          {live ? "Live" : "Not live"} · {shown.length} of {lines.length} lines
        </span>
      </div>
      <div
        ref={box}
        data-testid="log"
        tabIndex={0}
        aria-label="Job log"
        className="h-80 overflow-y-auto rounded bg-slate-900 p-3 font-mono text-xs leading-5"
      >
        {shown.length === 0 ? (
          <p className="text-slate-400">No log lines yet.</p>
        ) : (
          shown.map((l) => (
            <div key={l.seq} className={levelColour(l.level)}>
              <span className="text-slate-500">{new Date(l.ts).toLocaleTimeString()} </span>
              <span className="text-sky-300">[{l.stage}]</span> {l.message}
            </div>
          ))
        )}
      </div>
    </div>
  );
}
