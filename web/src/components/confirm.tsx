/**
 * The app's own confirmation and question dialogs (window.confirm and window.prompt cannot be
 * styled, translated or driven by the browser tests, and block the page).
 */
import { type FormEvent, type ReactNode, useState } from 'react';
import { useT } from '../i18n.tsx';
import { Modal } from './ui.tsx';

/** Asks before doing something that cannot be taken back. */
export function Confirm({ title, children, confirm, danger = false, pending = false, onConfirm, onClose, testId = 'confirm-dialog' }: {
  title?: string;
  children: ReactNode;
  confirm?: string;
  danger?: boolean;
  pending?: boolean;
  onConfirm: () => void;
  onClose: () => void;
  testId?: string;
}) {
  const t = useT();
  return (
    <Modal title={title ?? t('confirm.title')} onClose={onClose} testId={testId}>
      <div>{children}</div>
      <div className="actions-row">
        <button type="button" className={danger ? 'danger' : 'primary'} disabled={pending} onClick={onConfirm} data-testid="confirm-yes">
          {confirm ?? t('confirm.yes')}
        </button>
        <button type="button" onClick={onClose}>
          {t('common.cancel')}
        </button>
      </div>
    </Modal>
  );
}

/** Asks for a text (a reason, a resolution) before acting; the text is required. */
export function Ask({ title, label, note, pending = false, error, onSubmit, onClose, testId = 'ask-dialog' }: {
  title: string;
  label: string;
  note?: ReactNode;
  pending?: boolean;
  error?: string | null;
  onSubmit: (text: string) => void;
  onClose: () => void;
  testId?: string;
}) {
  const t = useT();
  const [text, setText] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (text.trim()) onSubmit(text.trim());
  };
  return (
    <Modal title={title} onClose={onClose} testId={testId}>
      <form className="form" onSubmit={submit}>
        {note && <p className="wide muted">{note}</p>}
        <label className="wide">
          {label}
          <textarea name="text" rows={3} required value={text} onChange={(e) => setText(e.target.value)} data-testid="ask-text" />
        </label>
        {error && <div className="error wide">{error}</div>}
        <div className="actions-row wide">
          <button type="submit" className="primary" disabled={pending || !text.trim()} data-testid="ask-submit">
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
