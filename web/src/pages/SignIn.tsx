import { useState, type FormEvent } from 'react';
import { useTitle } from '../lib/router';

/** Sign in with a token: pasted here, or from a `/#token=` link (npm start prints one in development). */
export function SignIn({ notice, onToken }: { notice: string | undefined; onToken: (token: string) => void }) {
  useTitle('Sign in');
  const [value, setValue] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim() !== '') onToken(value.trim());
  };
  return (
    <main className="center">
      <form className="card signin" onSubmit={submit}>
        <h1>Sign in to Jobwatch</h1>
        {notice !== undefined && (
          <p role="alert" className="notice">
            {notice}
          </p>
        )}
        <label htmlFor="token">Access token (JWT)</label>
        <textarea id="token" rows={4} value={value} onChange={(e) => setValue(e.target.value)} spellCheck={false} autoComplete="off" />
        <button type="submit">Sign in</button>
        <p className="hint">
          Open a sign-in link (<code>/#token=…</code>) or paste a token from your identity provider. In development,
          <code> npm start</code> prints a link for the bootstrap admin, and <code>npm run token -- &lt;user&gt;</code> signs one.
        </p>
      </form>
    </main>
  );
}
