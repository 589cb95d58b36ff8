// Who is signed in, shared by every page through TanStack Query's cache.
import { useQuery } from "@tanstack/react-query";
import { api, ApiError } from "./api";
import type { Role, User } from "../types/api";

export const ME_KEY = ["me"] as const;

export function useSession() {
  return useQuery<User | null>({
    queryKey: ME_KEY,
    queryFn: async () => {
      try {
        return (await api.me()).user;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null;
        throw e;
      }
    },
    staleTime: 60_000,
  });
}

const RANK: Record<Role, number> = { viewer: 0, builder: 1, admin: 2 };

/** Whether `user` has at least `role`. */
export function can(user: User | null | undefined, role: Role): boolean {
  return !!user && RANK[user.role] >= RANK[role];
}
