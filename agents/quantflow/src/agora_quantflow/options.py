"""Black-Scholes-Merton prices and greeks of European options, standard library only."""

from __future__ import annotations

import math

from agora_quantflow.models import Greeks, OptionInput, OptionResult

_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def norm_cdf(x: float) -> float:
    """Standard normal CDF via erfc, accurate in both tails."""
    return 0.5 * math.erfc(-x / _SQRT_2)


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / _SQRT_2PI


def black_scholes(data: OptionInput) -> OptionResult:
    """Call and put price, delta, gamma, vega, theta and rho under Black-Scholes-Merton."""
    s, k, t = data.spot, data.strike, data.time_to_expiry
    r, sigma, q = data.rate, data.volatility, data.dividend_yield
    sqrt_t = math.sqrt(t)
    d1 = (math.log(s / k) + (r - q + 0.5 * sigma * sigma) * t) / (sigma * sqrt_t)
    d2 = d1 - sigma * sqrt_t
    spot_disc = s * math.exp(-q * t)
    strike_disc = k * math.exp(-r * t)
    pdf_d1 = norm_pdf(d1)
    gamma = math.exp(-q * t) * pdf_d1 / (s * sigma * sqrt_t)
    vega = spot_disc * pdf_d1 * sqrt_t
    decay = -spot_disc * pdf_d1 * sigma / (2 * sqrt_t)

    call_theta = decay - r * strike_disc * norm_cdf(d2) + q * spot_disc * norm_cdf(d1)
    call = Greeks(
        price=spot_disc * norm_cdf(d1) - strike_disc * norm_cdf(d2),
        delta=math.exp(-q * t) * norm_cdf(d1),
        gamma=gamma,
        vega=vega,
        theta=call_theta,
        theta_per_day=call_theta / 365,
        rho=k * t * math.exp(-r * t) * norm_cdf(d2),
    )
    put_theta = decay + r * strike_disc * norm_cdf(-d2) - q * spot_disc * norm_cdf(-d1)
    put = Greeks(
        price=strike_disc * norm_cdf(-d2) - spot_disc * norm_cdf(-d1),
        delta=-math.exp(-q * t) * norm_cdf(-d1),
        gamma=gamma,
        vega=vega,
        theta=put_theta,
        theta_per_day=put_theta / 365,
        rho=-k * t * math.exp(-r * t) * norm_cdf(-d2),
    )
    return OptionResult(call=call, put=put, d1=d1, d2=d2)
