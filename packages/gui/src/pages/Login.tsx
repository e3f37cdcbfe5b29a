import { useState } from 'react';
import { ApiError, session } from '../api/client.ts';

/**
 * Shown without a session: a user name and password form, or the link `sigil gui` prints.
 * The page keeps nothing: a successful login sets an HttpOnly cookie and the page starts over.
 */
export function Login({ message, hint, onLoggedIn }: { message?: string | undefined; hint?: string | undefined; onLoggedIn: () => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; hint?: string | undefined } | null>(message === undefined ? null : { message, hint });
  const submit = () => {
    setBusy(true);
    setError(null);
    session.withPassword(user.trim(), password).then(onLoggedIn, (e: unknown) => {
      // Nothing is kept from a failed attempt, the password least of all.
      setPassword('');
      setBusy(false);
      setError(e instanceof ApiError ? { message: e.message, hint: e.hint } : { message: String(e) });
    });
  };
  return (
    <div className="login" data-testid="login">
      <h1>Sigil</h1>
      <p>
        Log in with your user name and password, or open the link <code>sigil gui</code> prints (it works once, for two minutes).
      </p>
      {error && (
        <div className="error" role="alert" data-testid="login-error">
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
