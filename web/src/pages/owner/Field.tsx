/** One labelled input or text area with its problems beside it (aria-describedby/-invalid). */
import type { ReactNode } from "react";
import { FieldMessages } from "../../components/ErrorNotice";

interface FieldProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  messages?: string[];
  hint?: ReactNode;
  multiline?: boolean;
  required?: boolean;
  type?: string;
  autoComplete?: string;
  rows?: number;
}

export function Field(props: FieldProps) {
  const { id, label, value, onChange, messages, hint, multiline, required, type, autoComplete, rows } = props;
  const invalid = !!messages?.length;
  const described = [hint ? `${id}-hint` : "", invalid ? `${id}-error` : ""].filter(Boolean).join(" ");
  const shared = {
    id,
    name: id,
    value,
    required,
    "aria-invalid": invalid || undefined,
    "aria-describedby": described || undefined,
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <span id={`${id}-hint`} className="muted small hint">
          {hint}
        </span>
      )}
      {multiline ? (
        <textarea {...shared} rows={rows} spellCheck={false} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input {...shared} type={type ?? "text"} autoComplete={autoComplete} onChange={(e) => onChange(e.target.value)} />
      )}
      <FieldMessages id={`${id}-error`} messages={messages} />
    </div>
  );
}
