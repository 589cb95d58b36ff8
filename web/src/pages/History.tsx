import { useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api } from "../lib/api";
import { HISTORY_PAGE as PAGE, historyQuery } from "../lib/history";
import { ALL_STATUSES } from "../types/api";
import { JobTable } from "../components/JobTable";
import { Empty, ErrorNote, Loading, PageTitle } from "../components/States";

export function HistoryPage() {
  const [status, setStatus] = useState("");
  const [customer, setCustomer] = useState("");
  const [board, setBoard] = useState("");
  const [since, setSince] = useState("");
  const [q, setQ] = useState("");
  const [page, setPage] = useState(0);
  const jobs = useQuery({
    queryKey: ["jobs", "history", status, customer, board, since, q, page],
    queryFn: () => {
      // free-text search takes the same filters and pages as the plain listing
      const query = historyQuery({ status, customer, board, since }, page);
      return q.trim() ? api.searchJobs(q.trim(), query) : api.jobs(query);
    },
    placeholderData: keepPreviousData,
  });
  const total = jobs.data?.total ?? jobs.data?.jobs.length ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const reset = <T,>(set: (v: T) => void) => (v: T) => {
    set(v);
    setPage(0);
  };

  return (
    <div className="space-y-4">
      <PageTitle>History</PageTitle>
      <form className="card grid gap-3 md:grid-cols-5" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label className="text-sm">
          <span className="label">Search</span>
          <input className="input" value={q} onChange={(e) => reset(setQ)(e.target.value)} placeholder="board, customer, job id…" />
        </label>
        <label className="text-sm">
          <span className="label">Status</span>
          <select className="input" value={status} onChange={(e) => reset(setStatus)(e.target.value)}>
            <option value="">Any</option>
            {ALL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, " ")}
              </option>
            ))}
          </select>
        </label>
        <label className="text-sm">
          <span className="label">Customer</span>
          <input className="input" value={customer} onChange={(e) => reset(setCustomer)(e.target.value)} />
        </label>
        <label className="text-sm">
          <span className="label">Motherboard</span>
          <input className="input" value={board} onChange={(e) => reset(setBoard)(e.target.value)} />
        </label>
        <label className="text-sm">
          <span className="label">Since</span>
          <input type="date" className="input" value={since} onChange={(e) => reset(setSince)(e.target.value)} />
        </label>
      </form>
      <section className="card">
        {jobs.isPending ? (
          <Loading what="jobs" />
        ) : jobs.isError ? (
          <ErrorNote error={jobs.error} />
        ) : jobs.data.jobs.length === 0 ? (
          <Empty>No jobs match these filters.</Empty>
        ) : (
          <JobTable jobs={jobs.data.jobs} />
        )}
        {jobs.data ? (
          <nav className="mt-3 flex items-center gap-3 text-sm" aria-label="Pages">
            <button type="button" className="btn" disabled={page === 0} onClick={() => setPage((p) => p - 1)}>
              Previous
            </button>
            <span>
              Page {page + 1} of {pages} · {total} jobs
            </span>
            <button type="button" className="btn" disabled={page + 1 >= pages} onClick={() => setPage((p) => p + 1)}>
              Next
            </button>
          </nav>
        ) : null}
      </section>
    </div>
  );
}
