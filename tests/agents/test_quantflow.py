"""QuantFlow: textbook values, the input rules, and the agent running as its container does."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agora_agent_sdk import ToolError
from agora_common.models import AgentCard
from agora_quantflow.agent import agent
from agora_quantflow.growth import compound_growth
from agora_quantflow.models import GrowthInput, OptionInput, PortfolioInput
from agora_quantflow.options import black_scholes, norm_cdf
from agora_quantflow.portfolio import portfolio_metrics
from tests.agents.process import PROVIDER_KEY, SECRET, run_agent

ATM = {"spot": 100, "strike": 100, "time_to_expiry": 1, "rate": 0.05, "volatility": 0.2}


def test_the_normal_cdf_matches_known_values() -> None:
    assert norm_cdf(0) == 0.5
    assert norm_cdf(1.96) == pytest.approx(0.9750021, abs=1e-7)
    assert norm_cdf(-1) == pytest.approx(0.1586553, abs=1e-7)
    assert 0 <= norm_cdf(-40) < 1e-300 and norm_cdf(40) == 1.0  # the tails do not overflow


def test_black_scholes_at_the_money_textbook_values() -> None:
    result = black_scholes(OptionInput(**ATM))
    call, put = result.call, result.put
    assert result.d1 == pytest.approx(0.35)
    assert result.d2 == pytest.approx(0.15)
    assert call.price == pytest.approx(10.4506, abs=1e-4)
    assert put.price == pytest.approx(5.5735, abs=1e-4)
    assert call.delta == pytest.approx(0.6368, abs=1e-4)
    assert put.delta == pytest.approx(-0.3632, abs=1e-4)
    assert call.gamma == put.gamma == pytest.approx(0.018762, abs=1e-6)
    assert call.vega == put.vega == pytest.approx(37.524, abs=1e-3)
    assert call.theta == pytest.approx(-6.4140, abs=1e-4)
    assert put.theta == pytest.approx(-1.6579, abs=1e-4)
    assert call.theta_per_day == pytest.approx(call.theta / 365)
    assert call.rho == pytest.approx(53.2325, abs=1e-4)
    assert put.rho == pytest.approx(-41.8905, abs=1e-4)


@pytest.mark.parametrize(
    "option",
    [
        ATM,
        {"spot": 42, "strike": 40, "time_to_expiry": 0.5, "rate": 0.1, "volatility": 0.2},
        {"spot": 50, "strike": 80, "time_to_expiry": 3, "rate": 0.01, "volatility": 0.6},
        {**ATM, "dividend_yield": 0.03},
        {**ATM, "rate": -0.01, "time_to_expiry": 0.01},
    ],
)
def test_put_call_parity_holds(option: dict[str, float]) -> None:
    data = OptionInput(**option)
    result = black_scholes(data)
    t = data.time_to_expiry
    forward_gap = data.spot * math.exp(-data.dividend_yield * t) - data.strike * math.exp(
        -data.rate * t
    )
    assert result.call.price - result.put.price == pytest.approx(forward_gap, abs=1e-9)
    assert result.call.delta - result.put.delta == pytest.approx(math.exp(-data.dividend_yield * t))


def test_hull_example_with_known_prices() -> None:
    # Hull, Options, Futures and Other Derivatives, example 15.6: c = 4.76, p = 0.81.
    result = black_scholes(
        OptionInput(spot=42, strike=40, time_to_expiry=0.5, rate=0.1, volatility=0.2)
    )
    assert result.call.price == pytest.approx(4.76, abs=5e-3)
    assert result.put.price == pytest.approx(0.81, abs=5e-3)


@pytest.mark.parametrize(
    "change",
    [
        {"volatility": 0},
        {"volatility": -0.2},
        {"time_to_expiry": 0},
        {"spot": 0},
        {"strike": -1},
        {"volatility": float("nan")},
        {"spot": float("inf")},
        {"unknown": 1},
    ],
)
def test_options_refuse_inputs_without_a_price(change: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        OptionInput(**(ATM | change))


PORTFOLIO = {
    "weights": [0.5, 0.5],
    "returns": [[0.1, 0.2, 0.15, 0.05], [0.05, 0.0, 0.1, 0.15]],
    "risk_free_rate": 0.02,
    "periods_per_year": 4,
}


def test_portfolio_metrics_known_values() -> None:
    # Portfolio returns 0.075, 0.1, 0.125, 0.1: mean 0.1, sample stdev sqrt(0.00125 / 3).
    result = portfolio_metrics(PortfolioInput(**PORTFOLIO))
    stdev = math.sqrt(0.00125 / 3)
    assert result.periods == 4
    assert result.mean_return == pytest.approx(0.1)
    assert result.volatility == pytest.approx(stdev)
    assert result.annualized_return == pytest.approx(0.4)
    assert result.annualized_volatility == pytest.approx(stdev * 2)
    assert result.sharpe_ratio == pytest.approx((0.4 - 0.02) / (stdev * 2))
    assert result.cumulative_return == pytest.approx(1.075 * 1.1 * 1.125 * 1.1 - 1)


def test_a_riskless_portfolio_has_no_sharpe_ratio() -> None:
    flat = PortfolioInput(weights=[1.0], returns=[[0.01, 0.01, 0.01]])
    assert portfolio_metrics(flat).sharpe_ratio is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weights": [0.5, 0.4]}, "weights"),
        ({"weights": [1.0]}, "returns"),
        ({"returns": [[0.1, 0.2], [0.1, 0.2, 0.3]]}, "returns"),
        ({"returns": [[0.1], [0.2]]}, "returns"),
        ({"returns": [[0.1, -1.5], [0.1, 0.2]]}, "returns"),
        ({"periods_per_year": 0}, "periods_per_year"),
        ({"weights": [0.5] * 101}, "weights"),
    ],
)
def test_portfolio_input_rules(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PortfolioInput(**(PORTFOLIO | change))
    assert {err["loc"][0] for err in caught.value.errors()} == {field}


@pytest.mark.parametrize(
    ("growth", "future_value"),
    [
        # $1,000 at 5% compounded yearly / monthly for 10 years.
        ({"principal": 1000, "annual_rate": 0.05, "compounds_per_year": 1, "years": 10}, 1628.89),
        ({"principal": 1000, "annual_rate": 0.05, "years": 10}, 1647.01),
        # $100 a month at 6% for 10 years, paid at the end / at the beginning of each month.
        ({"principal": 0, "annual_rate": 0.06, "years": 10, "contribution": 100}, 16387.93),
        (
            {
                "principal": 0,
                "annual_rate": 0.06,
                "years": 10,
                "contribution": 100,
                "contribution_timing": "beginning",
            },
            16469.87,
        ),
        ({"principal": 500, "annual_rate": 0, "years": 2, "contribution": 10}, 740.0),
    ],
)
def test_compound_growth_textbook_values(growth: dict[str, Any], future_value: float) -> None:
    result = compound_growth(GrowthInput(**growth))
    assert result.future_value == pytest.approx(future_value, abs=5e-3)
    assert result.total_interest == pytest.approx(result.future_value - result.total_contributions)


def test_compound_growth_effective_rate() -> None:
    result = compound_growth(GrowthInput(principal=1, annual_rate=0.12, years=1))
    assert result.effective_annual_rate == pytest.approx(1.01**12 - 1)
    assert result.periods == 12


def test_compound_growth_refuses_fractional_periods_and_overflow() -> None:
    with pytest.raises(ValidationError, match="whole number"):
        GrowthInput(principal=1, annual_rate=0.05, compounds_per_year=1, years=2.5)
    huge = GrowthInput(principal=1, annual_rate=10, compounds_per_year=365, years=200)
    with pytest.raises(ToolError) as caught:
        compound_growth(huge)
    assert caught.value.code == "RESULT_TOO_LARGE"


def test_the_card_is_valid() -> None:
    card = AgentCard.model_validate(agent.card("https://quantflow.example.com"))
    assert [t.name for t in card.tools] == ["black_scholes", "portfolio_metrics", "compound_growth"]


def test_quantflow_serves_signed_calls_as_a_process(tmp_path: Path) -> None:
    with run_agent("agora_quantflow", tmp_path / "quantflow.log") as running:
        answer = running.call("black_scholes", ATM)
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"]["call"]["price"] == pytest.approx(10.4506, abs=1e-4)
        assert answer.json()["result"]["put"]["price"] == pytest.approx(5.5735, abs=1e-4)

        unsigned = running.call("black_scholes", ATM, signed=False)
        assert unsigned.status_code == 401
        assert unsigned.json()["error"]["code"] == "MISSING_SIGNATURE"

        invalid = running.call("black_scholes", ATM | {"volatility": 0})
        assert invalid.status_code == 400
        assert invalid.json()["error"]["details"][0]["path"] == "volatility"
    log = running.log.read_text()
    assert SECRET not in log and PROVIDER_KEY not in log
