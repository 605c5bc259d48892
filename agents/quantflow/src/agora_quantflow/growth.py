"""Compound growth of a principal with equal periodic contributions."""

from __future__ import annotations

import math

from agora_agent_sdk import ToolError
from agora_quantflow.models import GrowthInput, GrowthResult


def compound_growth(data: GrowthInput) -> GrowthResult:
    """FV = P(1+i)^N + C((1+i)^N - 1)/i, times (1+i) for contributions at the beginning."""
    n = round(data.years * data.compounds_per_year)
    i = data.annual_rate / data.compounds_per_year
    try:
        factor = (1 + i) ** n
        annuity = (factor - 1) / i if i != 0 else float(n)
        if data.contribution_timing == "beginning":
            annuity *= 1 + i
        future_value = data.principal * factor + data.contribution * annuity
        effective = (1 + i) ** data.compounds_per_year - 1
    except OverflowError:
        future_value = math.inf
        effective = math.inf
    if not (math.isfinite(future_value) and math.isfinite(effective)):
        raise ToolError("RESULT_TOO_LARGE", "The result is too large to represent")
    contributed = data.principal + data.contribution * n
    return GrowthResult(
        future_value=future_value,
        total_contributions=contributed,
        total_interest=future_value - contributed,
        periods=n,
        effective_annual_rate=effective,
    )
