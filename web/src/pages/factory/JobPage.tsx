/** A Tool Factory job: its progress, then the package to preview, download or submit. */
import { useMutation, useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { useApi } from "../../api/context";
import type { Agent, FactoryJob, Submission } from "../../api/types";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, StatusBadge } from "../../components/bits";
import { FilePreview } from "./FilePreview";
import "./factory.css";

const STEP_WORDS: Record<string, string> = {
  generating: "Writing the code, its tests and its card",
  formatting: "Formatting and linting (ruff)",
  checking: "Scanning (bandit, semgrep, detect-secrets) and running the package's tests",
  storing: "Storing the package",
};
const finished = (job?: FactoryJob) => job?.status === "ready" || job?.status === "failed";

export default function JobPage() {
  const { jobId = "" } = useParams();
  const api = useApi();
  const path = `/tools/generate/${encodeURIComponent(jobId)}`;
  const job = useQuery({
    queryKey: ["factory-job", jobId],
    queryFn: () => api.get<FactoryJob>(path),
    refetchInterval: (query) => (finished(query.state.data) ? false : 1000),
  });
  return (
    <section>
      <h1>{job.data?.card?.name ?? "Tool Factory job"}</h1>
      <p>
        <Link to="/factory">Back to the Tool Factory</Link>
      </p>
      {job.isPending && <Loading what="Loading the job" />}
      <ErrorNotice error={job.error} />
      {job.data && <JobState job={job.data} />}
      {job.data?.status === "ready" && job.data.files && (
        <>
          <Actions job={job.data} path={path} />
          <h2>The package</h2>
          <FilePreview files={job.data.files} />
        </>
      )}
    </section>
  );
}

function JobState({ job }: { job: FactoryJob }) {
  const { done, total } = job.progress;
  return (
    <>
      <div aria-live="polite">
        {!finished(job) && (
          <>
            <p>
              Step {Math.min(done + 1, total)} of {total}: {STEP_WORDS[job.step ?? ""] ?? "Waiting to start"}…
            </p>
            <progress className="job-progress" value={done} max={total} aria-label="Progress of the job" />
          </>
        )}
        {job.status === "ready" && <p className="notice notice-ok">Ready: every check passed.</p>}
        {job.status === "failed" && (
          <p className="notice notice-error" role="alert">
            The package did not pass its checks{job.error?.message ? `: ${job.error.message}` : "."} It
            cannot be submitted; change the specification and generate it again.
          </p>
        )}
      </div>
      {job.report.length > 0 && (
        <>
          <h2>Checks</h2>
          <ul aria-label="Checks">
            {job.report.map((check, index) => {
              const findings = Array.isArray(check.findings) ? check.findings : [];
              return (
                <li key={String(check.name ?? index)}>
                  <strong>{String(check.name)}</strong>: {check.status === "ok" ? "passed" : String(check.status)}
                  {findings.length > 0 && (
                    <details>
                      <summary>{findings.length} finding{findings.length === 1 ? "" : "s"}</summary>
                      <pre className="json">{JSON.stringify(findings, null, 2)}</pre>
                    </details>
                  )}
                </li>
              );
            })}
          </ul>
        </>
      )}
    </>
  );
}

function Actions({ job, path }: { job: FactoryJob; path: string }) {
  const api = useApi();
  const download = useMutation({
    mutationFn: () => api.blob(`${path}/package`),
    onSuccess: (blob) => {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `${String(job.card?.name ?? "tool").toLowerCase().replace(/\s+/g, "-")}.tar.gz`;
      link.click();
      window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    },
  });
  const submit = useMutation({
    mutationFn: () => api.post<Submission>("/tools/submit", { package_digest: job.package_digest }),
  });
  return (
    <>
      <p className="small">
        Package digest <code className="digest">{job.package_digest}</code>
      </p>
      <div className="row">
        <button type="button" className="secondary" onClick={() => download.mutate()} disabled={download.isPending}>
          Download the package (.tar.gz)
        </button>
        <button type="button" onClick={() => submit.mutate()} disabled={submit.isPending || submit.isSuccess}>
          {submit.isPending ? "Submitting…" : "Submit for vetting"}
        </button>
      </div>
      <ErrorNotice error={download.error ?? submit.error} />
      {submit.data && <SubmissionState submission={submit.data} />}
    </>
  );
}

/** The submitted agent's status, followed until vetting decides. */
function SubmissionState({ submission }: { submission: Submission }) {
  const api = useApi();
  const agent = useQuery({
    queryKey: ["agent", submission.agent_id, "submission"],
    queryFn: () => api.get<Agent>(`/agents/${encodeURIComponent(submission.agent_id)}`),
    refetchInterval: (query) => (query.state.data?.status === "pending-vetting" ? 3000 : false),
  });
  const status = agent.data?.status ?? submission.status;
  return (
    <div className="notice" aria-live="polite">
      <p>
        Submitted as a new agent: <StatusBadge status={status} />
        {status === "pending-vetting" && " (an admin reviews its scan before it goes live)"}
      </p>
      <p>
        <Link to={`/my/agents/${encodeURIComponent(submission.agent_id)}`}>Follow it in My agents</Link>
        {" · tools "}
        {submission.tool_ids.map((id) => (
          <code key={id}>{id} </code>
        ))}
      </p>
      <ErrorNotice error={agent.error} />
    </div>
  );
}
