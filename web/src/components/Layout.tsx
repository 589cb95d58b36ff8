import { NavLink, Outlet, useNavigate } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../lib/api";
import { can, ME_KEY } from "../lib/session";
import type { User } from "../types/api";

function Item({ to, children }: { to: string; children: string }) {
  return (
    <NavLink
      to={to}
      end={to === "/"}
      className={({ isActive }) =>
        `rounded px-3 py-1.5 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-400 ${
          isActive ? "bg-slate-700 text-white" : "text-slate-200 hover:bg-slate-700"
        }`
      }
    >
      {children}
    </NavLink>
  );
}

export function Layout({ user }: { user: User }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const logout = async () => {
    try {
      await api.logout();
    } finally {
      queryClient.setQueryData(ME_KEY, null);
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
      navigate("/login");
    }
  };
  return (
    <div className="min-h-screen">
      <header className="bg-slate-800">
        <nav className="mx-auto flex max-w-6xl flex-wrap items-center gap-1 px-4 py-2" aria-label="Main">
          <span className="mr-4 font-bold text-white">WAIT</span>
          <Item to="/">Dashboard</Item>
          {can(user, "builder") ? <Item to="/new">New build</Item> : null}
          <Item to="/history">History</Item>
          <Item to="/outputs">Outputs</Item>
          <Item to="/customers">Customers</Item>
          {can(user, "admin") ? <Item to="/webhooks">Webhooks</Item> : null}
          <Item to="/users">{can(user, "admin") ? "Users & tokens" : "Tokens"}</Item>
          <span className="ml-auto text-sm text-slate-300" data-testid="whoami">
            {user.username} ({user.role})
          </span>
          <button type="button" className="btn ml-2 py-1" onClick={() => void logout()}>
            Sign out
          </button>
        </nav>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">
        <Outlet />
      </main>
    </div>
  );
}
