import { useState } from 'react';
import { ApiError, session } from '../api/client.ts';

/** Why the login form is showing: a refused login or an ended session (error), or a logout (info). */
export interface Notice {
  message: string;
  hint?: string | undefined;
  kind: 'error' | 'info';
}

/**
 * Shown without a session: a user name and password form, or the link `sigil gui` prints.
 * The page keeps nothing: a successful login sets an HttpOnly cookie and the page starts over.
 */
export function Login({ notice, onLoggedIn }: { notice?: Notice | undefined; onLoggedIn: () => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Notice | null>(notice ?? null);
  const submit = () => {
    setBusy(true);
    setError(null);
    session.withPassword(user.trim(), password).then(onLoggedIn, (e: unknown) => {
      // Nothing is kept from a failed attempt, the password least of all.
      setPassword('');
      setBusy(false);
      setError(e instanceof ApiError ? { message: e.message, hint: e.hint, kind: 'error' } : { message: String(e), kind: 'error' });
    });
  };
  return (
    <div className="login" data-testid="login">
      <h1>Sigil</h1>
      <p>
        Log in with your user name and password, or open the link <code>sigil gui</code> prints (it works once, for two minutes).
      </p>
      {error && (
        <div className={error.kind} role="alert" data-testid={`login-${error.kind}`}>
          {error.message}
          {error.hint && <div className="hint">hint: {error.hint}</div>}
        </div>
      )}
      <form onSubmit={(e) => { e.preventDefault(); submit(); }}>
        <input autoComplete="username" placeholder="user" value={user} onChange={(e) => setUser(e.target.value)} aria-label="user" data-testid="login-user" />
        <input type="password" autoComplete="current-password" placeholder="password" value={password} onChange={(e) => setPassword(e.target.value)} aria-label="password" data-testid="login-password" />
        <button type="submit" disabled={busy || user.trim() === '' || password === ''} data-testid="login-submit">Log in</button>
      </form>
    </div>
  );
}

/** Logged in, but without access to the model asked for: the models the user may open instead. */
export function NoAccess({ user, model, models }: { user: string; model: string; models: string[] }) {
  return (
    <div className="login" data-testid="no-access">
      <h1>Sigil</h1>
      <p className="error" role="alert">User {user} has no access to model {model}.</p>
      <p className="hint">hint: ask a model admin to grant it: <code>sigil grant {user} read {model}</code></p>
      {models.length > 0 ? (
        <ul>{models.map((m) => <li key={m}><a href={`/gui/?model=${encodeURIComponent(m)}`}>{m}</a></li>)}</ul>
      ) : (
        <p>You have no access to any model yet.</p>
      )}
      <button onClick={() => void session.logout().then(() => location.replace('/gui/'), () => location.replace('/gui/'))} data-testid="logout">Log out</button>
    </div>
  );
}
