import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../lib/api";
import { formatBytes, formatDuration, formatTime } from "../lib/format";
import { can } from "../lib/session";
import { useJobStream } from "../lib/stream";
import { FINAL_STATUSES } from "../types/api";
import type { Timing, User } from "../types/api";
import { LogView } from "../components/LogView";
import { ProgressBar, StatusBadge } from "../components/Status";
import { CopyButton, Empty, ErrorNote, Loading, PageTitle } from "../components/States";

function Timeline({ timings }: { timings: Timing[] }) {
  const total = timings.reduce((sum, t) => sum + t.seconds, 0) || 1;
  return (
    <ol className="space-y-1" aria-label="Stage timeline">
      {timings.map((t) => (
        <li key={t.stage} className="grid grid-cols-[8rem_1fr_5rem] items-center gap-2 text-sm">
          <span className="font-mono">{t.stage}</span>
          <span className="h-2 rounded bg-slate-200">
            <span className="block h-2 rounded bg-blue-500" style={{ width: `${Math.max(1, (t.seconds / total) * 100)}%` }} />
          </span>
          <span className="text-right tabular-nums">{formatDuration(t.seconds)}</span>
        </li>
      ))}
    </ol>
  );
}

export function JobDetailPage({ user }: { user: User }) {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [actionError, setActionError] = useState<unknown>(null);
  const job = useQuery({
    queryKey: ["job", id],
    queryFn: () => api.job(id),
    refetchInterval: (q) => (q.state.data && FINAL_STATUSES.includes(q.state.data.status) ? false : 3000),
  });
  const final = !!job.data && FINAL_STATUSES.includes(job.data.status);
  const stream = useJobStream(job.data && !final ? id : null);
  const archived = useQuery({
    queryKey: ["job", id, "logs"],
    queryFn: () => api.jobLogs(id),
    enabled: final && stream.lines.length === 0,
  });
  const manifest = useQuery({
    queryKey: ["job", id, "manifest"],
    queryFn: () => api.manifest(id),
    enabled: final && !!job.data?.output_dir,
    retry: false,
  });
  const streamDone = stream.status !== null && FINAL_STATUSES.includes(stream.status);
  useEffect(() => {
    // the stream saw the final status: fetch the finished job now, not on the next poll
    if (streamDone) void queryClient.invalidateQueries({ queryKey: ["job", id] });
  }, [streamDone, id, queryClient]);

  if (job.isPending) return <Loading what="the job" />;
  if (job.isError)
    return job.error instanceof ApiError && job.error.status === 404 ? (
      <Empty>There is no job {id}. It may have been deleted.</Empty>
    ) : (
      <ErrorNote error={job.error} />
    );
  const j = job.data;
  const status = final ? j.status : (stream.status ?? j.status);
  const act = async (what: () => Promise<unknown>, after?: () => void) => {
    setActionError(null);
    try {
      await what();
      await queryClient.invalidateQueries({ queryKey: ["job"] });
      after?.();
    } catch (e) {
      setActionError(e);
    }
  };
  const builder = can(user, "builder");
  // the validator logs one PASS or FAIL line per check
  const logLines = final && stream.lines.length === 0 ? (archived.data?.lines ?? []) : stream.lines;
  const checks = logLines.filter((l) => l.stage === "validate" && /^(PASS|FAIL)\b/.test(l.message));

  return (
    <div className="space-y-6">
      <PageTitle
        actions={
          builder ? (
            <>
              {!final ? (
                <button type="button" className="btn-danger" onClick={() => void act(() => api.cancelJob(id))}>
                  Cancel
                </button>
              ) : null}
              <button
                type="button"
                className="btn"
                onClick={() =>
                  void act(async () => {
                    const c = await api.cloneJob(id);
                    navigate(`/jobs/${c.job_id}`);
                  })
                }
              >
                Clone
              </button>
              {final ? (
                <button
                  type="button"
                  className="btn-danger"
                  onClick={() => {
                    if (window.confirm("Delete this job record? Its output folder stays."))
                      void act(() => api.deleteJob(id), () => navigate("/history"));
                  }}
                >
                  Delete
                </button>
              ) : null}
            </>
          ) : null
        }
      >
        {j.motherboard_model} for {j.customer_name}
      </PageTitle>
      {actionError ? <ErrorNote error={actionError} /> : null}

      <section className="card space-y-3">
        <div className="flex flex-wrap items-center gap-4 text-sm">
          <StatusBadge status={status} />
          <span>
            Stage: <span data-testid="stage">{stream.stage ?? j.stage ?? "—"}</span>
          </span>
          <span>Created {formatTime(j.created_at)} by {j.created_by}</span>
          <span>Started {formatTime(j.started_at)}</span>
          <span>Finished {formatTime(j.finished_at)}</span>
          <span>Attempt {j.attempt}</span>
        </div>
        <ProgressBar value={final ? j.progress : (stream.progress ?? j.progress)} label="Build progress" />
        {j.error ? <ErrorNote error={new Error(j.error)} /> : null}
        <dl className="grid grid-cols-[10rem_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-slate-500">Base image</dt>
          <dd>{j.base_image} (index {j.image_index})</dd>
          <dt className="text-slate-500">Output</dt>
          <dd>
            {j.output_dir ? (
              <Link className="text-blue-700 underline" to={`/outputs?q=${encodeURIComponent(j.output_dir)}`}>
                {j.output_dir}
              </Link>
            ) : (
              "—"
            )}
          </dd>
          <dt className="text-slate-500">Compression / ISO</dt>
          <dd>
            {j.compression} / {j.create_iso ? "yes" : "no"} / key variants: {j.key_variants}
          </dd>
        </dl>
      </section>

      <div className="grid gap-6 md:grid-cols-2">
        <section className="card">
          <h2 className="mb-2 font-semibold">Stage timeline</h2>
          {manifest.data?.timings?.length ? (
            <Timeline timings={manifest.data.timings} />
          ) : (
            <Empty>{final ? "This job has no recorded stage timings." : "Timings appear when the build finishes."}</Empty>
          )}
        </section>
        <section className="card">
          <h2 className="mb-2 font-semibold">Warnings and validation</h2>
          {j.warnings.length === 0 ? (
            <p className="text-sm text-slate-600">No warnings.</p>
          ) : (
            <ul className="list-disc pl-5 text-sm text-amber-800">
              {j.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          {checks.length > 0 ? (
            <ul className="mt-2 space-y-0.5 text-xs" aria-label="Validation checks">
              {checks.map((c) => (
                <li key={c.seq} className={c.message.startsWith("FAIL") ? "text-red-700" : "text-green-800"}>
                  {c.message}
                </li>
              ))}
            </ul>
          ) : null}
          <p className="mt-2 text-sm" data-testid="validation">
            Validation:{" "}
            {j.status === "Completed"
              ? "passed"
              : j.status === "Failed_Validation"
                ? "failed"
                : j.status === "Pending_Validation" || j.status === "Processing_Validation"
                  ? "in progress"
                  : "not run"}
          </p>
        </section>
      </div>

      <section className="card">
        <h2 className="mb-2 font-semibold">Log {final ? "(archived)" : "(live)"}</h2>
        {final && stream.lines.length === 0 ? (
          archived.isPending ? (
            <Loading what="the log" />
          ) : archived.isError ? (
            <ErrorNote error={archived.error} />
          ) : (
            <LogView lines={archived.data.lines} live={false} />
          )
        ) : (
          <LogView lines={stream.lines} live={stream.live} />
        )}
      </section>

      <section className="card">
        <h2 className="mb-2 font-semibold">Inputs ({j.resources.length})</h2>
        {j.resources.length === 0 ? (
          <Empty>Inputs are recorded when the build resolves them.</Empty>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" aria-label="Inputs">
              <thead className="border-b text-slate-600">
                <tr>
                  <th className="py-1 pr-3">Kind</th>
                  <th className="py-1 pr-3">Path</th>
                  <th className="py-1 pr-3">Size</th>
                  <th className="py-1 pr-3">SHA-256</th>
                </tr>
              </thead>
              <tbody>
                {j.resources.map((r) => (
                  <tr key={r.path} className="border-b last:border-0">
                    <td className="py-1 pr-3">{r.kind}</td>
                    <td className="py-1 pr-3 font-mono text-xs">{r.path}</td>
                    <td className="py-1 pr-3 whitespace-nowrap">{formatBytes(r.size)}</td>
                    <td className="py-1 pr-3 font-mono text-xs">
                      <span className="break-all">{r.sha256}</span> <CopyButton text={r.sha256} label={`Copy SHA-256 of ${r.path}`} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card">
        <h2 className="mb-2 font-semibold">Manifest</h2>
        {!final ? (
          <Empty>The manifest is written when the build finishes.</Empty>
        ) : manifest.isPending ? (
          <Loading what="the manifest" />
        ) : manifest.isError ? (
          <ErrorNote error={manifest.error} />
        ) : (
          <pre data-testid="manifest" className="max-h-96 overflow-auto rounded bg-slate-100 p-3 text-xs">
            {JSON.stringify(manifest.data, null, 2)}
          </pre>
        )}
      </section>
    </div>
  );
}
