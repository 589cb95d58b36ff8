import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../lib/api";
import { can } from "../lib/session";
import { useJobStream } from "../lib/stream";
import { FINAL_STATUSES } from "../types/api";
import type { User } from "../types/api";
import { DurationChart } from "../components/DurationChart";
import { JobTable } from "../components/JobTable";
import { LogView } from "../components/LogView";
import { ProgressBar, StatusBadge } from "../components/Status";
import { Empty, ErrorNote, Loading, PageTitle } from "../components/States";

export function DashboardPage({ user }: { user: User }) {
  const queryClient = useQueryClient();
  const current = useQuery({
    queryKey: ["job", "current"],
    queryFn: async () => {
      try {
        return await api.currentJob();
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
    refetchInterval: 5000,
  });
  const queue = useQuery({ queryKey: ["queue"], queryFn: () => api.queue(), refetchInterval: 5000 });
  const recent = useQuery({
    queryKey: ["jobs", "recent"],
    queryFn: () => api.jobs({ limit: 20 }),
    refetchInterval: 10000,
  });

  const job = current.data ?? null;
  const running = job !== null && !FINAL_STATUSES.includes(job.status);
  // keep following a job after it ends, so its log stays on screen until another starts
  const [followId, setFollowId] = useState<string | null>(null);
  const runningId = running ? job.job_id : null;
  useEffect(() => {
    if (runningId) setFollowId(runningId);
  }, [runningId]);
  const stream = useJobStream(followId);
  const following = job !== null && followId === job.job_id;
  const status = (following ? stream.status : null) ?? job?.status;
  const finishedNow = stream.status !== null && FINAL_STATUSES.includes(stream.status);

  useEffect(() => {
    // the stream said the job ended: refresh the lists rather than wait for the timer
    if (!finishedNow) return;
    void queryClient.invalidateQueries({ queryKey: ["jobs"] });
    void queryClient.invalidateQueries({ queryKey: ["job"] });
    void queryClient.invalidateQueries({ queryKey: ["queue"] });
  }, [finishedNow, queryClient]);

  return (
    <div className="space-y-6">
      <PageTitle
        actions={
          can(user, "builder") ? (
            <Link className="btn-primary" to="/new">
              New build
            </Link>
          ) : null
        }
      >
        Dashboard
      </PageTitle>

      <section className="card" aria-labelledby="running-title">
        <h2 id="running-title" className="mb-3 font-semibold">
          {running ? "Running now" : "Latest build"}
        </h2>
        {current.isPending ? (
          <Loading what="the current build" />
        ) : current.isError ? (
          <ErrorNote error={current.error} />
        ) : !job ? (
          <Empty>No builds yet.</Empty>
        ) : (
          <div className="space-y-3">
            <div className="flex flex-wrap items-center gap-3">
              {status ? <StatusBadge status={status} /> : null}
              <Link to={`/jobs/${job.job_id}`} className="font-medium text-blue-700 underline">
                {job.motherboard_model} for {job.customer_name}
              </Link>
              <span className="text-sm text-slate-600">
                Stage: <span data-testid="stage">{(following ? stream.stage : null) ?? job.stage ?? "—"}</span>
              </span>
            </div>
            <ProgressBar value={(following ? stream.progress : null) ?? job.progress} label="Build progress" />
            {running || following ? (
              <LogView lines={stream.lines} live={stream.live} />
            ) : (
              <p className="text-sm text-slate-600">
                Nothing is running. The log of this build is on its{" "}
                <Link className="text-blue-700 underline" to={`/jobs/${job.job_id}`}>
                  detail page
                </Link>
                .
              </p>
            )}
          </div>
        )}
      </section>

      <div className="grid gap-6 md:grid-cols-3">
        <section className="card md:col-span-2" aria-labelledby="queue-title">
          <h2 id="queue-title" className="mb-2 font-semibold">
            Queue
          </h2>
          {queue.isPending ? (
            <Loading what="the queue" />
          ) : queue.isError ? (
            <ErrorNote error={queue.error} />
          ) : queue.data.jobs.length === 0 ? (
            <Empty>The queue is empty.</Empty>
          ) : (
            <JobTable jobs={queue.data.jobs} showPosition />
          )}
        </section>
        <section className="card" aria-labelledby="chart-title">
          <h2 id="chart-title" className="mb-2 font-semibold">
            Build durations
          </h2>
          {recent.data ? <DurationChart jobs={recent.data.jobs} /> : <Loading what="durations" />}
          <p className="mt-2 text-xs text-slate-500">
            <span className="text-green-700">■</span> completed{" "}
            <span className="text-red-700">■</span> failed{" "}
            <span className="text-amber-600">■</span> cancelled
          </p>
        </section>
      </div>

      <section className="card" aria-labelledby="recent-title">
        <h2 id="recent-title" className="mb-2 font-semibold">
          Recent builds
        </h2>
        {recent.isPending ? (
          <Loading what="recent builds" />
        ) : recent.isError ? (
          <ErrorNote error={recent.error} />
        ) : recent.data.jobs.length === 0 ? (
          <Empty>No builds yet.</Empty>
        ) : (
          <JobTable jobs={recent.data.jobs} />
        )}
      </section>
    </div>
  );
}
