import { Link } from "react-router-dom";
import type { Job } from "../types/api";
import { formatDuration, formatTime, secondsBetween } from "../lib/format";
import { StatusBadge } from "./Status";

export function JobTable({ jobs, showPosition = false }: { jobs: Job[]; showPosition?: boolean }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <thead className="border-b text-slate-600">
          <tr>
            {showPosition ? <th className="py-2 pr-3">#</th> : null}
            <th className="py-2 pr-3">Status</th>
            <th className="py-2 pr-3">Board</th>
            <th className="py-2 pr-3">Customer</th>
            <th className="py-2 pr-3">Base image</th>
            <th className="py-2 pr-3">Created</th>
            <th className="py-2 pr-3">Duration</th>
            <th className="py-2 pr-3">By</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j, i) => (
            <tr key={j.job_id} className="border-b last:border-0 hover:bg-slate-50">
              {showPosition ? <td className="py-2 pr-3">{j.queue_position ?? i + 1}</td> : null}
              <td className="py-2 pr-3">
                <StatusBadge status={j.status} />
              </td>
              <td className="py-2 pr-3">
                <Link className="text-blue-700 underline" to={`/jobs/${j.job_id}`}>
                  {j.motherboard_model}
                </Link>
              </td>
              <td className="py-2 pr-3">{j.customer_name}</td>
              <td className="max-w-[16rem] truncate py-2 pr-3" title={j.base_image}>
                {j.base_image}
              </td>
              <td className="py-2 pr-3">{formatTime(j.created_at)}</td>
              <td className="py-2 pr-3">{formatDuration(secondsBetween(j.started_at, j.finished_at))}</td>
              <td className="py-2 pr-3">{j.created_by}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
