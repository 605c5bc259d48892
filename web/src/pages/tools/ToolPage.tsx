/** One tool: what it takes and gives, the agent it belongs to, and every published version. */
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { useApi } from "../../api/context";
import type { ToolEntry, ToolVersionList } from "../../api/types";
import { useSession } from "../../auth";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Empty, JsonView, Loading, StatusBadge, formatTime } from "../../components/bits";

export default function ToolPage() {
  const { toolId = "" } = useParams();
  const api = useApi();
  const session = useSession();
  const path = `/tools/${encodeURIComponent(toolId)}`;
  const viewer = session.user?.uid ?? null;
  const tool = useQuery({
    queryKey: ["tool", toolId, viewer],
    queryFn: () => api.get<ToolEntry>(path),
  });
  const versions = useQuery({
    queryKey: ["tool-versions", toolId, viewer],
    queryFn: () => api.get<ToolVersionList>(`${path}/versions`),
    enabled: tool.isSuccess,
  });
  if (tool.isPending) return <Loading what="Loading the tool" />;
  if (tool.error) {
    return (
      <section>
        <h1>Tool</h1>
        <ErrorNotice error={tool.error} />
      </section>
    );
  }
  const entry = tool.data;
  const agentPath = `/agents/${encodeURIComponent(entry.agent_id)}`;
  return (
    <section>
      <h1>
        {entry.name} {entry.status !== "active" && <StatusBadge status={entry.status} />}
      </h1>
      <p>{entry.description}</p>
      <dl className="facts">
        <dt>Agent</dt>
        <dd>
          <Link to={agentPath}>{entry.agent_name}</Link>
        </dd>
        <dt>Current version</dt>
        <dd>{entry.current_version}</dd>
        <dt>Tags</dt>
        <dd>{entry.tags.length ? entry.tags.join(", ") : "—"}</dd>
        <dt>Tool id</dt>
        <dd>
          <code>{entry.tool_id}</code>
        </dd>
        {entry.version_conflict && (
          <>
            <dt>Version conflict</dt>
            <dd>{entry.version_conflict}</dd>
          </>
        )}
      </dl>
      {entry.status === "active" && (
        <p>
          <Link to={`${agentPath}/tools/${encodeURIComponent(entry.name)}`}>Try {entry.name}</Link>
        </p>
      )}
      <h2>Input schema</h2>
      <JsonView value={entry.input_schema} label={`Input schema of ${entry.name}`} />
      {entry.output_schema && (
        <>
          <h2>Output schema</h2>
          <JsonView value={entry.output_schema} label={`Output schema of ${entry.name}`} />
        </>
      )}
      <h2>Versions</h2>
      <ErrorNotice error={versions.error} />
      {versions.isPending && <Loading what="Loading the versions" />}
      {versions.data && versions.data.items.length === 0 && (
        <Empty>No version is published yet: one is when the agent becomes active.</Empty>
      )}
      {versions.data && versions.data.items.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Published</th>
                <th scope="col">State</th>
                <th scope="col">Content digest</th>
              </tr>
            </thead>
            <tbody>
              {versions.data.items.map((version) => (
                <tr key={version.version}>
                  <th scope="row">{version.version}</th>
                  <td>{formatTime(version.published_at)}</td>
                  <td>
                    {version.deprecated
                      ? `Deprecated${version.deprecation_message ? `: ${version.deprecation_message}` : ""}`
                      : version.version === versions.data.latest
                        ? "Latest"
                        : "Published"}
                  </td>
                  <td>
                    <code className="digest">{version.content_digest}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
