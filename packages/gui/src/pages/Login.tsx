import { useState } from 'react';

/** Shown without a token: how to get a login link, or paste the token by hand. */
export function Login() {
  const [token, setToken] = useState('');
  return (
    <div className="login">
      <h1>Sigil</h1>
      <p>
        Open the login link printed by <code>sigil gui</code> (it carries your credentials), or paste the admin token from{' '}
        <code>$SIGIL_HOME/accounts.yaml</code>.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          sessionStorage.setItem('sigil-token', token.trim());
          location.reload();
        }}
      >
        <input type="password" placeholder="token" value={token} onChange={(e) => setToken(e.target.value)} aria-label="token" />
        <button type="submit" disabled={token.trim() === ''}>Log in</button>
      </form>
    </div>
  );
}
