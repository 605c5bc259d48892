"""Portfolio return, volatility and Sharpe ratio from weights and periodic return series."""

from __future__ import annotations

import math
import statistics

from agora_agent_sdk import ToolError
from agora_quantflow.models import PortfolioInput, PortfolioResult


def portfolio_metrics(data: PortfolioInput) -> PortfolioResult:
    """Arithmetic annualisation: mean x periods_per_year, sample stdev x sqrt(periods_per_year)."""
    periods = len(data.returns[0])
    series = [
        math.fsum(w * asset[t] for w, asset in zip(data.weights, data.returns, strict=True))
        for t in range(periods)
    ]
    mean = statistics.fmean(series)
    volatility = statistics.stdev(series, mean)
    annualized_return = mean * data.periods_per_year
    annualized_volatility = volatility * math.sqrt(data.periods_per_year)
    sharpe = (
        (annualized_return - data.risk_free_rate) / annualized_volatility
        if annualized_volatility > 0
        else None
    )
    growth = math.prod(1 + p for p in series)
    if not math.isfinite(growth):
        raise ToolError("RESULT_TOO_LARGE", "The cumulative return is too large to represent")
    return PortfolioResult(
        periods=periods,
        mean_return=mean,
        volatility=volatility,
        annualized_return=annualized_return,
        annualized_volatility=annualized_volatility,
        sharpe_ratio=sharpe,
        cumulative_return=growth - 1,
    )
