import { Link, useTitle } from '../lib/router';

export function NotFound() {
  useTitle('Not found');
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is nothing here. <Link href="/">Back to the jobs</Link>
      </p>
    </section>
  );
}
