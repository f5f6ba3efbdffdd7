import { useEffect, useRef, useState, type ReactNode } from 'react';

/**
 * A modal confirmation (native <dialog>: focus trapped, Escape closes) with an optional reason or
 * comment. onConfirm answers an error message to show, or undefined when it worked.
 */
export function ConfirmDialog(props: {
  title: string;
  confirm: string;
  reasonLabel?: string;
  disabled?: boolean;
  children?: ReactNode;
  onClose: () => void;
  onConfirm: (reason: string) => Promise<string | undefined>;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} className="card" aria-labelledby="confirm-title" onClose={props.onClose}>
      <form
        method="dialog"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          const failed = await props.onConfirm(reason.trim());
          setBusy(false);
          if (failed === undefined) ref.current?.close();
          else setError(failed);
        }}
      >
        <h2 id="confirm-title">{props.title}</h2>
        {props.children}
        {props.reasonLabel !== undefined && (
          <label className="stack">
            {props.reasonLabel}
            <input type="text" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1000} />
          </label>
        )}
        {error !== undefined && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <div className="buttons">
          <button type="button" onClick={() => ref.current?.close()}>
            Back
          </button>
          <button type="submit" className="danger" disabled={busy || props.disabled === true}>
            {props.confirm}
          </button>
        </div>
      </form>
    </dialog>
  );
}
