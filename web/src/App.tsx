import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { Layout } from "./components/Layout";
import { ErrorNote, Loading } from "./components/States";
import { useSession } from "./lib/session";
import { LoginPage } from "./pages/Login";
import { DashboardPage } from "./pages/Dashboard";
import { NewBuildPage } from "./pages/NewBuild";
import { JobDetailPage } from "./pages/JobDetail";
import { HistoryPage } from "./pages/History";
import { OutputsPage } from "./pages/Outputs";
import { WebhooksPage } from "./pages/Webhooks";
import { UsersPage } from "./pages/Users";
import { CustomersPage } from "./pages/Customers";

export function App() {
  const session = useSession();
  const location = useLocation();
  if (session.isPending) return <Loading what="your session" />;
  if (session.isError)
    return (
      <div className="mx-auto max-w-md p-8">
        <ErrorNote error={session.error} />
      </div>
    );
  const user = session.data;
  const from = (location.state as { from?: string } | null)?.from;
  if (!user) {
    return (
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="*" element={<Navigate to="/login" replace state={{ from: location.pathname }} />} />
      </Routes>
    );
  }
  return (
    <Routes>
      {/* just signed in: back to where the user was sent away from */}
      <Route path="/login" element={<Navigate to={from && from !== "/login" ? from : "/"} replace />} />
      <Route element={<Layout user={user} />}>
        <Route index element={<DashboardPage user={user} />} />
        <Route path="new" element={<NewBuildPage user={user} />} />
        <Route path="jobs/:id" element={<JobDetailPage user={user} />} />
        <Route path="history" element={<HistoryPage />} />
        <Route path="outputs" element={<OutputsPage />} />
        <Route path="customers" element={<CustomersPage user={user} />} />
        <Route path="webhooks" element={<WebhooksPage user={user} />} />
        <Route path="users" element={<UsersPage user={user} />} />
        <Route path="*" element={<p>There is no page here. Use the menu above.</p>} />
      </Route>
    </Routes>
  );
}
