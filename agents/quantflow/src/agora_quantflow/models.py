"""Inputs and results of the QuantFlow tools, with the checks that make the maths well-defined."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

MAX_ASSETS = 100
MAX_PERIODS = 10_000
MAX_VALUES = 100_000
WEIGHT_TOLERANCE = 1e-6


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class OptionInput(_Input):
    """A European option on a (possibly dividend-paying) underlying."""

    spot: Annotated[float, Field(ge=1e-6, le=1e9, description="Price of the underlying")]
    strike: Annotated[float, Field(ge=1e-6, le=1e9, description="Strike price")]
    time_to_expiry: Annotated[
        float, Field(ge=1e-6, le=100, description="Time to expiry in years (> 0)")
    ]
    rate: Annotated[
        float, Field(ge=-1, le=1, description="Risk-free rate, annual, continuously compounded")
    ]
    volatility: Annotated[
        float, Field(ge=1e-4, le=10, description="Annual volatility (> 0), e.g. 0.2 for 20%")
    ]
    dividend_yield: Annotated[
        float, Field(ge=0, le=1, description="Continuous dividend yield, annual")
    ] = 0.0


class Greeks(BaseModel):
    """Price and sensitivities; vega and rho per 1.00 (not per point), theta per year."""

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float
    theta_per_day: float
    rho: float


class OptionResult(BaseModel):
    call: Greeks
    put: Greeks
    d1: float
    d2: float


Weight = Annotated[float, Field(ge=-10, le=10)]
Return = Annotated[float, Field(ge=-1, le=100, description="A periodic return, 0.01 for 1%")]


class PortfolioInput(_Input):
    """Asset weights and one periodic return series per asset, all of the same length."""

    weights: Annotated[
        list[Weight],
        Field(min_length=1, max_length=MAX_ASSETS, description="One weight per asset, sum 1"),
    ]
    returns: Annotated[
        list[Annotated[list[Return], Field(min_length=2, max_length=MAX_PERIODS)]],
        Field(min_length=1, max_length=MAX_ASSETS, description="One return series per asset"),
    ]
    risk_free_rate: Annotated[
        float, Field(ge=-1, le=1, description="Annual risk-free rate for the Sharpe ratio")
    ] = 0.0
    periods_per_year: Annotated[
        int, Field(ge=1, le=100_000, description="Annualisation factor: 252 daily, 12 monthly")
    ] = 252

    @field_validator("weights")
    @classmethod
    def _sum_to_one(cls, weights: list[float]) -> list[float]:
        if abs(math.fsum(weights) - 1) > WEIGHT_TOLERANCE:
            raise ValueError(f"must sum to 1 (within {WEIGHT_TOLERANCE})")
        return weights

    @field_validator("returns")
    @classmethod
    def _one_series_per_asset(
        cls, returns: list[list[float]], info: ValidationInfo
    ) -> list[list[float]]:
        weights = info.data.get("weights")
        if weights is not None and len(returns) != len(weights):
            raise ValueError("must hold one series per weight")
        if len({len(series) for series in returns}) > 1:
            raise ValueError("every series must have the same length")
        if sum(len(series) for series in returns) > MAX_VALUES:
            raise ValueError(f"at most {MAX_VALUES} returns in all")
        return returns


class PortfolioResult(BaseModel):
    periods: int
    mean_return: float
    volatility: float
    annualized_return: float
    annualized_volatility: float
    sharpe_ratio: float | None
    cumulative_return: float


class GrowthInput(_Input):
    """A principal compounding at a nominal annual rate, with optional equal contributions."""

    principal: Annotated[float, Field(ge=0, le=1e12, description="Starting amount")]
    annual_rate: Annotated[
        float, Field(gt=-1, le=10, description="Nominal annual rate, 0.05 for 5%")
    ]
    compounds_per_year: Annotated[
        int, Field(ge=1, le=365, description="1 yearly, 4 quarterly, 12 monthly, 365 daily")
    ] = 12
    years: Annotated[float, Field(gt=0, le=200, description="Duration in years")]
    contribution: Annotated[
        float, Field(ge=0, le=1e9, description="Added every compounding period")
    ] = 0.0
    contribution_timing: Annotated[
        Literal["end", "beginning"], Field(description="When in each period it is added")
    ] = "end"

    @field_validator("years")
    @classmethod
    def _whole_periods(cls, years: float, info: ValidationInfo) -> float:
        per_year = info.data.get("compounds_per_year")
        if per_year is not None and abs(years * per_year - round(years * per_year)) > 1e-9:
            raise ValueError("years x compounds_per_year must be a whole number of periods")
        return years


class GrowthResult(BaseModel):
    future_value: float
    total_contributions: float
    total_interest: float
    periods: int
    effective_annual_rate: float
