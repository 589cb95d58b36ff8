// Live job events over Server-Sent Events (`GET /api/job/stream`).
import { useEffect, useState } from "react";
import { FINAL_STATUSES } from "../types/api";
import type { JobStatus, LogLine, StreamProgress, StreamStatus } from "../types/api";

export interface StreamState {
  lines: LogLine[];
  status: JobStatus | null;
  progress: number | null;
  stage: string | null;
  error: string | null;
  live: boolean;
}

const EMPTY: StreamState = {
  lines: [],
  status: null,
  progress: null,
  stage: null,
  error: null,
  live: false,
};

/** Follows one job until its final status; `null` follows nothing. */
export function useJobStream(jobId: string | null): StreamState {
  const [state, setState] = useState<StreamState>(EMPTY);

  useEffect(() => {
    setState(EMPTY);
    if (!jobId) return;
    const source = new EventSource(`/api/job/stream?job_id=${encodeURIComponent(jobId)}`);
    const seen = new Set<number>();
    setState((s) => ({ ...s, live: true }));
    source.addEventListener("log", (e) => {
      const line = JSON.parse((e as MessageEvent<string>).data) as LogLine;
      // a reconnect resumes from Last-Event-ID, but never show a line twice
      if (seen.has(line.seq)) return;
      seen.add(line.seq);
      setState((s) => ({ ...s, lines: [...s.lines, line] }));
    });
    source.addEventListener("progress", (e) => {
      const p = JSON.parse((e as MessageEvent<string>).data) as StreamProgress;
      setState((s) => ({ ...s, progress: p.progress, stage: p.stage }));
    });
    source.addEventListener("status", (e) => {
      const st = JSON.parse((e as MessageEvent<string>).data) as StreamStatus;
      const final = FINAL_STATUSES.includes(st.status);
      // the server ends the stream after the final status; EventSource would reconnect
      if (final) source.close();
      setState((s) => ({ ...s, status: st.status, error: st.error, live: !final }));
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) setState((s) => ({ ...s, live: false }));
    };
    return () => source.close();
  }, [jobId]);

  return state;
}
