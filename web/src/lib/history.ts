// The History page's query: its filters and page as API parameters, shared by the plain
// listing and the free-text search (both take the same filters and limit/offset).
import type { Query } from "./api";

/** Jobs per page. */
export const HISTORY_PAGE = 25;

/** The filters and page of the listing, as API query parameters. */
export function historyQuery(
  filters: { status: string; customer: string; board: string; since: string },
  page: number,
): Query {
  return {
    status: filters.status,
    customer_name: filters.customer.trim(),
    motherboard_model: filters.board.trim(),
    since: filters.since ? new Date(filters.since).toISOString() : undefined,
    limit: HISTORY_PAGE,
    offset: page * HISTORY_PAGE,
  };
}
