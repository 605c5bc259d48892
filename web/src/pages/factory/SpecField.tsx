/** One labelled field of the specification form, with its problems tied to it. */
import type { ReactNode } from "react";
import { FieldMessages } from "../../components/ErrorNotice";

interface SpecFieldProps {
  name: string;
  label: string;
  hint?: ReactNode;
  problems?: string[];
  children: (props: {
    id: string;
    name: string;
    "aria-invalid": boolean;
    "aria-describedby"?: string;
  }) => ReactNode;
}

export function SpecField({ name, label, hint, problems, children }: SpecFieldProps) {
  const id = `spec-${name}`;
  const describedBy = [problems?.length ? `${id}-problems` : "", hint ? `${id}-hint` : ""]
    .filter(Boolean)
    .join(" ");
  return (
    <div className="spec-field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <span id={`${id}-hint`} className="muted small">
          {hint}
        </span>
      )}
      {children({
        id,
        name,
        "aria-invalid": !!problems?.length,
        "aria-describedby": describedBy || undefined,
      })}
      <FieldMessages id={`${id}-problems`} messages={problems} />
    </div>
  );
}
