"""One scan of a submission: the card, its URL, a live probe, and static checks of its source
(the scanners, and the package's own tests when it has some).

Verdicts: `findings` when any check found something; else `inconclusive` (with the reason) when
any check could not run to the end; else `clean`. Checks that do not apply (no URL yet: the agent
is deployed from its image on approval) are `skipped` and say why; they do not spoil a verdict.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from agora_common.agents import AgentDirectory
from agora_common.archives import unpack_archive
from agora_common.blobs import BlobStore, parse_blob_url
from agora_common.egress import EgressGuard
from agora_common.errors import AgoraError, json_path
from agora_common.mcp_remote import McpRemote, tools_fingerprint
from agora_common.models import (
    AgentCard,
    AgentView,
    canonical_card_json,
    card_digest,
    package_source,
)
from agora_common.schema_budget import assess_schema
from agora_vetting.mcp_probe import mcp_tools_check
from agora_vetting.models import CheckResult, CheckStatus, ScanReceipt, ScanTicket, Verdict
from agora_vetting.scanners import ScannerResult, run_static_scan
from agora_vetting.settings import VettingSettings

log = logging.getLogger("agora.vetting.scan")
SERIOUS = frozenset({"medium", "high", "critical"})


def digest_of(card: AgentCard) -> str:
    """The card digest, as the registry computes it for the queue entry."""
    return card_digest(canonical_card_json(card))


def verdict_of(checks: list[CheckResult]) -> tuple[Verdict, str | None]:
    if any(c.status == "findings" for c in checks):
        return "findings", None
    unfinished = [c for c in checks if c.status in ("failed", "timeout", "unavailable")]
    if unfinished:
        reasons = "; ".join(f"{c.name}: {c.reason or c.status}" for c in unfinished)
        return "inconclusive", reasons[:1000]
    return "clean", None


def check_stored_card(data: dict[str, Any]) -> tuple[AgentCard | None, CheckResult]:
    """The card as stored, validated again: the model, and every tool schema's budget."""
    try:
        card = AgentCard.model_validate(data)
    except ValidationError as exc:
        findings = [
            {
                "check": "card",
                "path": json_path(e["loc"]),
                "message": e["msg"],
                "severity": "high",
            }
            for e in exc.errors(include_input=False)
        ]
        return None, CheckResult(name="card", status="findings", findings=findings)
    # A card stored before the budget existed may still hold a schema that stalls validation.
    over_budget = [
        {
            "check": "card",
            "path": json_path(["tools", index, field, *problem.loc]),
            "message": problem.message,
            "severity": "high",
        }
        for index, tool in enumerate(card.tools)
        for field, schema in (
            ("input_schema", tool.input_schema),
            ("output_schema", tool.output_schema),
        )
        if schema is not None
        for problem in assess_schema(schema).problems
    ]
    if over_budget:
        return card, CheckResult(name="card", status="findings", findings=over_budget)
    return card, CheckResult(name="card", status="ok")


def signature_findings(agent: AgentView) -> list[dict[str, Any]]:
    """A signature of the imported A2A card that the registry could not verify: high."""
    check = agent.card_signatures
    if check is None:
        return []
    return [
        {
            "check": "card",
            "path": f"$.signatures[{result.index}]",
            "message": (
                f"the card's signature does not verify ({result.reason or result.result})"
                + (f" under the platform's key {result.kid}" if result.kid else "")
            ),
            "severity": "high",
        }
        for result in check.signatures
        if result.result in ("failed", "invalid")
    ]


class Scanner:
    def __init__(
        self,
        agents: AgentDirectory,
        guard: EgressGuard,
        http: httpx.AsyncClient,
        settings: VettingSettings,
        blobs: BlobStore | None = None,
    ) -> None:
        self._blobs = blobs
        self._agents = agents
        self._guard = guard
        self._http = http
        self._settings = settings

    async def scan(self, ticket: ScanTicket) -> ScanReceipt:
        agent = await self._agents.get(ticket.agent_id, fresh=True)
        checks: list[CheckResult] = []
        card, card_check = self._card(agent)
        checks.append(card_check)
        source_digest = None
        mcp_tools: list[dict[str, Any]] | None = None
        if card is not None:
            checks.append(await self._url(card))
            if card.protocol == "mcp":  # an MCP server: its tools/list instead of /health
                check, mcp_tools = await mcp_tools_check(
                    McpRemote(self._http, self._guard), card, self._settings.probe_timeout_s
                )
                checks.append(check)
            else:
                checks.append(await self._probe(card))
            static, source_digest = await self._static(card)
            checks.extend(static)
        verdict, reason = verdict_of(checks)
        current = digest_of(card) if card is not None else None
        if current is not None and current != ticket.card_digest:
            # The card changed after this scan was queued: what was scanned is not what was asked.
            verdict, reason = "inconclusive", "the card changed since this scan was queued"
        return ScanReceipt(
            scan_id=ticket.scan_id,
            agent_id=agent.id,
            card_digest=current or ticket.card_digest,
            source_digest=source_digest,
            scope=[c.name for c in checks if c.status != "skipped"],
            verdict=verdict,
            reason=reason,
            checks=checks,
            findings=[f for c in checks for f in c.findings],
            requested_by=ticket.requested_by,
            scanned_at=datetime.now(UTC),
            mcp_tools=mcp_tools,
            mcp_tools_fingerprint=tools_fingerprint(mcp_tools) if mcp_tools is not None else None,
        )

    def _card(self, agent: AgentView) -> tuple[AgentCard | None, CheckResult]:
        card, check = check_stored_card(agent.card)
        bad_signatures = signature_findings(agent)
        if not bad_signatures:
            return card, check
        findings = [*check.findings, *bad_signatures]
        return card, check.model_copy(update={"status": "findings", "findings": findings})

    async def _url(self, card: AgentCard) -> CheckResult:
        url = card.deployment.url
        if url is None:
            return CheckResult(name="egress", status="skipped", reason="no deployment URL")
        started = time.perf_counter()
        try:
            await self._guard.check_all(str(url))
        except AgoraError as exc:
            finding = {"check": "egress", "message": exc.message, "severity": "high"}
            return CheckResult(name="egress", status="findings", findings=[finding])
        return CheckResult(name="egress", status="ok", duration_ms=_ms(started))

    async def _probe(self, card: AgentCard) -> CheckResult:
        url = card.deployment.url
        if url is None:
            return CheckResult(
                name="live_probe",
                status="skipped",
                reason="not deployed yet: it runs from its image once approved",
            )
        base = str(url).rstrip("/")
        started = time.perf_counter()
        try:
            health = await self._http.get(f"{base}/health")
            served = await self._http.get(f"{base}/.well-known/agent-card.json")
        except (httpx.HTTPError, AgoraError) as exc:
            return CheckResult(name="live_probe", status="failed", reason=type(exc).__name__)
        if health.status_code != 200:
            reason = f"/health answered {health.status_code}"
            return CheckResult(name="live_probe", status="failed", reason=reason)
        try:
            listed = {
                tool["name"] for tool in served.json().get("skills", served.json().get("tools", []))
            }
        except (ValueError, TypeError, KeyError, AttributeError):
            listed = set()
        missing = sorted({tool.name for tool in card.tools} - listed)
        if served.status_code != 200 or missing:
            finding = {
                "check": "live_probe",
                "message": "the agent's own card does not list every registered tool",
                "missing": missing,
                "severity": "medium",
            }
            return CheckResult(name="live_probe", status="findings", findings=[finding])
        return CheckResult(name="live_probe", status="ok", duration_ms=_ms(started))

    async def _static(self, card: AgentCard) -> tuple[list[CheckResult], str | None]:
        source = (card.metadata or {}).get("source")
        if not source:
            skipped = CheckResult(
                name="static", status="skipped", reason="the card names no source"
            )
            return [skipped], None
        package = package_source(card)
        if package is not None:
            return await self._static_package(package)
        root = self._settings.agents_root.resolve()
        path = (root.parent / str(source)).resolve()
        if not path.is_relative_to(root) or not path.is_dir():
            failed = CheckResult(name="static", status="failed", reason="source not readable here")
            return [failed], None
        scan = await run_static_scan(
            path, timeout_s=self._settings.scan_timeout_s, memory_mb=self._settings.scan_memory_mb
        )
        return [check_of(result) for result in scan.results], scan.digest

    async def _static_package(self, url: str) -> tuple[list[CheckResult], str | None]:
        """A submitted package: its archive from the source bucket, unpacked afresh, scanned."""
        if self._blobs is None:
            failed = CheckResult(name="static", status="unavailable", reason="no source bucket")
            return [failed], None
        limits = self._settings.package_limits
        try:
            _, name = parse_blob_url(url)
            archive = await self._blobs.get(name, max_bytes=limits.max_archive_bytes)
        except AgoraError as exc:
            failed = CheckResult(name="static", status="failed", reason=exc.code)
            return [failed], None
        with tempfile.TemporaryDirectory(prefix="agora-package-") as folder:
            root = Path(folder) / "package"
            root.mkdir()
            try:
                await asyncio.to_thread(unpack_archive, archive, root, limits)
            except AgoraError as exc:
                finding = {"check": "static", "message": exc.message, "severity": "high"}
                return [CheckResult(name="static", status="findings", findings=[finding])], None
            scan = await run_static_scan(
                root,
                timeout_s=self._settings.scan_timeout_s,
                memory_mb=self._settings.scan_memory_mb,
                label="package",
            )
        return [check_of(result) for result in scan.results], scan.digest


def check_of(result: ScannerResult) -> CheckResult:
    """One static scanner's (or the tests') result as a check of the receipt."""
    findings = [f.model_dump(mode="json") for f in result.findings]
    # Low-severity findings stay in the receipt for the admin but do not spoil a verdict.
    # A serious finding counts even from a scanner that could not finish everything.
    serious = any(f.get("severity") in SERIOUS for f in findings)
    status: CheckStatus = "findings" if serious else result.status
    return CheckResult(
        name=result.name,
        version=result.version,
        status=status,
        reason=result.reason,
        findings=findings,
        duration_ms=result.duration_ms,
    )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
