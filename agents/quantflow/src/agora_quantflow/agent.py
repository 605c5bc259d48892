"""The QuantFlow agent: its card fields and its three tools."""

from __future__ import annotations

from agora_agent_sdk import Agent
from agora_quantflow.growth import compound_growth as _compound_growth
from agora_quantflow.models import (
    GrowthInput,
    GrowthResult,
    OptionInput,
    OptionResult,
    PortfolioInput,
    PortfolioResult,
)
from agora_quantflow.options import black_scholes as _black_scholes
from agora_quantflow.portfolio import portfolio_metrics as _portfolio_metrics

agent = Agent(
    name="QuantFlow",
    description="Quantitative finance tools: Black-Scholes option prices and greeks, portfolio "
    "return, volatility and Sharpe ratio, and compound growth with contributions.",
    version="1.0.0",
    tags=["finance", "options", "portfolio"],
)


@agent.tool(
    description="Price a European call and put under Black-Scholes-Merton, with delta, gamma, "
    "vega, theta and rho"
)
def black_scholes(payload: OptionInput) -> OptionResult:
    return _black_scholes(payload)


@agent.tool(
    description="Annualised return, volatility and Sharpe ratio of a weighted portfolio from "
    "periodic return series"
)
def portfolio_metrics(payload: PortfolioInput) -> PortfolioResult:
    return _portfolio_metrics(payload)


@agent.tool(
    description="Future value of a principal compounding at a nominal rate, with optional "
    "periodic contributions"
)
def compound_growth(payload: GrowthInput) -> GrowthResult:
    return _compound_growth(payload)
