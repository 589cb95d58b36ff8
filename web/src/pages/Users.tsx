import { Fragment, useState } from "react";
import type { FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../lib/api";
import { formatTime } from "../lib/format";
import { can } from "../lib/session";
import type { ApiToken, Role, User, UserChange } from "../types/api";
import { Field } from "../components/Field";
import { CopyButton, Empty, ErrorNote, Loading, PageTitle } from "../components/States";

/** Shortest password the server accepts (MIN_PASSWORD_CHARS). */
const MIN_PASSWORD_CHARS = 8;

/** An admin sets a new password for `account`; the server's 422 shows at the field. */
function PasswordReset({ account, onClose }: { account: User; onClose: () => void }) {
  const id = `password-${account.id}`;
  const [password, setPassword] = useState("");
  const [fieldError, setFieldError] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFieldError(undefined);
    setError(null);
    setDone(false);
    if (Array.from(password).length < MIN_PASSWORD_CHARS)
      return setFieldError(`Use at least ${MIN_PASSWORD_CHARS} characters.`);
    try {
      await api.updateUser(account.id, { password });
      setPassword("");
      setDone(true);
    } catch (err) {
      if (err instanceof ApiError && err.field === "password") setFieldError(err.message);
      else setError(err);
    }
  };
  return (
    <form className="flex flex-wrap items-start gap-3 py-2" onSubmit={(e) => void submit(e)} noValidate aria-label={`Password reset of ${account.username}`}>
      <Field id={id} label={`New password for ${account.username}`} error={fieldError}>
        <input id={id} type="password" className="input" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
      </Field>
      <div className="flex gap-2 pt-6">
        <button type="submit" className="btn-primary">
          Set password
        </button>
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
      </div>
      {done ? (
        <p role="status" className="w-full text-sm text-green-700">
          Password changed; {account.username}&apos;s sessions were ended, so they sign in with the new one.
        </p>
      ) : null}
      {error ? <ErrorNote error={error} /> : null}
    </form>
  );
}

function UsersSection() {
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ["users"], queryFn: () => api.users() });
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [resetting, setResetting] = useState<number | null>(null);
  const [rowError, setRowError] = useState<{ id: number; message: string } | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setError(null);
    if (password.length < MIN_PASSWORD_CHARS) return setErrors({ password: "Use at least 8 characters." });
    try {
      await api.createUser(username.trim(), password, role);
      setUsername("");
      setPassword("");
      await queryClient.invalidateQueries({ queryKey: ["users"] });
    } catch (err) {
      if (err instanceof ApiError && err.field) setErrors({ [err.field]: err.message });
      else setError(err);
    }
  };
  const change = async (id: number, body: UserChange) => {
    setError(null);
    setRowError(null);
    try {
      await api.updateUser(id, body);
      await queryClient.invalidateQueries({ queryKey: ["users"] });
    } catch (err) {
      // the server's reason (a 422 naming role, or refusing a change to oneself) at the row
      if (err instanceof ApiError && err.status !== 401 && err.status < 500) setRowError({ id, message: err.message });
      else setError(err);
    }
  };

  return (
    <section className="card space-y-4">
      <h2 className="font-semibold">Users</h2>
      {users.isPending ? (
        <Loading what="users" />
      ) : users.isError ? (
        <ErrorNote error={users.error} />
      ) : (
        <table className="w-full text-left text-sm">
          <thead className="border-b text-slate-600">
            <tr>
              <th className="py-1 pr-3">User</th>
              <th className="py-1 pr-3">Role</th>
              <th className="py-1 pr-3">Created</th>
              <th className="py-1">Account</th>
            </tr>
          </thead>
          <tbody>
            {users.data.users.map((u) => (
              <Fragment key={u.id}>
              <tr className="border-b last:border-0">
                <td className="py-1 pr-3">{u.username}</td>
                <td className="py-1 pr-3">
                  <select
                    className="input w-auto py-0.5"
                    aria-label={`Role of ${u.username}`}
                    value={u.role}
                    onChange={(e) => void change(u.id, { role: e.target.value as Role })}
                  >
                    <option value="viewer">viewer</option>
                    <option value="builder">builder</option>
                    <option value="admin">admin</option>
                  </select>
                </td>
                <td className="py-1 pr-3">{formatTime(u.created_at)}</td>
                <td className="py-1">
                  <span className="flex gap-2">
                    <button type="button" className="btn py-0.5" onClick={() => void change(u.id, { disabled: !u.disabled })}>
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                    <button
                      type="button"
                      className="btn py-0.5"
                      aria-expanded={resetting === u.id}
                      onClick={() => setResetting(resetting === u.id ? null : u.id)}
                    >
                      Reset password
                    </button>
                  </span>
                  {rowError?.id === u.id ? (
                    <p className="field-error" role="alert">
                      {rowError.message}
                    </p>
                  ) : null}
                </td>
              </tr>
              {resetting === u.id ? (
                <tr>
                  <td colSpan={4}>
                    <PasswordReset account={u} onClose={() => setResetting(null)} />
                  </td>
                </tr>
              ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
      {error ? <ErrorNote error={error} /> : null}
      <form className="grid gap-3 md:grid-cols-4" onSubmit={(e) => void submit(e)} noValidate aria-label="New user">
        <Field id="new-username" label="Username" error={errors.username}>
          <input id="new-username" className="input" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
        </Field>
        <Field id="new-password" label="Password" error={errors.password}>
          <input id="new-password" type="password" className="input" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
        </Field>
        <Field id="new-role" label="Role" error={errors.role}>
          <select id="new-role" className="input" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="viewer">viewer</option>
            <option value="builder">builder</option>
            <option value="admin">admin</option>
          </select>
        </Field>
        <div className="pt-6">
          <button type="submit" className="btn-primary">
            Add user
          </button>
        </div>
      </form>
    </section>
  );
}

function TokensSection() {
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ["tokens"], queryFn: () => api.tokens() });
  const [name, setName] = useState("");
  const [created, setCreated] = useState<ApiToken | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setError(null);
    if (!name.trim()) return setErrors({ name: "Name the token after what will use it." });
    try {
      setCreated(await api.createToken(name.trim()));
      setName("");
      await queryClient.invalidateQueries({ queryKey: ["tokens"] });
    } catch (err) {
      if (err instanceof ApiError && err.field) setErrors({ [err.field]: err.message });
      else setError(err);
    }
  };
  const revoke = async (id: number) => {
    try {
      await api.revokeToken(id);
      await queryClient.invalidateQueries({ queryKey: ["tokens"] });
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="card space-y-4">
      <h2 className="font-semibold">API tokens</h2>
      {tokens.isPending ? (
        <Loading what="tokens" />
      ) : tokens.isError ? (
        <ErrorNote error={tokens.error} />
      ) : tokens.data.tokens.length === 0 ? (
        <Empty>No tokens yet. Tokens let scripts and CI call the API.</Empty>
      ) : (
        <table className="w-full text-left text-sm">
          <thead className="border-b text-slate-600">
            <tr>
              <th className="py-1 pr-3">Name</th>
              <th className="py-1 pr-3">User</th>
              <th className="py-1 pr-3">State</th>
              <th className="py-1 pr-3">Created</th>
              <th className="py-1 pr-3">Last used</th>
              <th className="py-1" />
            </tr>
          </thead>
          <tbody>
            {tokens.data.tokens.map((t) => (
              <tr key={t.id} className="border-b last:border-0">
                <td className="py-1 pr-3">{t.name}</td>
                <td className="py-1 pr-3">{t.user}</td>
                <td className="py-1 pr-3">{t.state}</td>
                <td className="py-1 pr-3">{formatTime(t.created_at)}</td>
                <td className="py-1 pr-3">{formatTime(t.last_used_at)}</td>
                <td className="py-1">
                  {t.state === "active" ? (
                    <button type="button" className="btn-danger py-0.5" onClick={() => void revoke(t.id)}>
                      Revoke
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {error ? <ErrorNote error={error} /> : null}
      <form className="flex items-start gap-3" onSubmit={(e) => void submit(e)} noValidate aria-label="New token">
        <Field id="token-name" label="Token name" error={errors.name}>
          <input id="token-name" className="input" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <div className="pt-6">
          <button type="submit" className="btn-primary">
            Create token
          </button>
        </div>
      </form>
      {created?.token ? (
        <div role="status" className="rounded border border-amber-300 bg-amber-50 p-3 text-sm">
          <p className="font-medium">Token “{created.name}” — shown only this once.</p>
          <div className="mt-1 flex items-center gap-2">
            <code className="break-all">{created.token}</code>
            <CopyButton text={created.token} label="Copy the token" />
          </div>
        </div>
      ) : null}
    </section>
  );
}

export function UsersPage({ user }: { user: User }) {
  return (
    <div className="space-y-6">
      <PageTitle>{can(user, "admin") ? "Users and tokens" : "Tokens"}</PageTitle>
      {can(user, "admin") ? <UsersSection /> : null}
      <TokensSection />
    </div>
  );
}
