"""Exact intervals for incident counts and before/after rate ratios (outcome measures for a place).

References
----------
Garwood, F. (1936) Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
Clopper, C. J. & Pearson, E. S. (1934) The use of confidence or fiducial limits illustrated in the
    case of the binomial. Biometrika 26(4), 404-413.
Ederer, F. & Mantel, N. (1974) Confidence limits on the ratio of two Poisson variables.
    American Journal of Epidemiology 100(3), 165-167.
Rothman, K. J., Greenland, S. & Lash, T. L. (2008) Modern Epidemiology, 3rd ed., ch. 14
    ("exact" conditional methods for person-time data).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from scipy import stats


@dataclass(frozen=True)
class PoissonInterval:
    """Exact two-sided confidence interval for a Poisson mean, from one observed count."""

    count: int
    lower: float
    upper: float
    confidence: float


def exact_poisson_interval(count: int, confidence: float = 0.95) -> PoissonInterval:
    """Garwood's exact interval for the mean of a Poisson count.

    Garwood (1936), in its chi-square form::

        lower = chi2.ppf(alpha / 2, 2k) / 2          (0 when k = 0)
        upper = chi2.ppf(1 - alpha / 2, 2k + 2) / 2

    Examples
    --------
    >>> interval = exact_poisson_interval(0)
    >>> interval.lower, round(interval.upper, 3)
    (0.0, 3.689)
    >>> round(exact_poisson_interval(10).lower, 3), round(exact_poisson_interval(10).upper, 3)
    (4.795, 18.39)
    """
    _check_confidence(confidence)
    if count < 0 or int(count) != count:
        raise ValueError("count must be a non-negative integer")
    k = int(count)
    alpha = 1.0 - confidence
    lower = 0.0 if k == 0 else float(stats.chi2.ppf(alpha / 2, 2 * k) / 2)
    upper = float(stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2)
    return PoissonInterval(count=k, lower=lower, upper=upper, confidence=confidence)


@dataclass(frozen=True)
class RateRatio:
    """After/before incident-rate ratio with an exact interval and test of "no change".

    ``None`` in ``ratio``, ``lower``, ``upper`` or ``p_value`` means the quantity is undefined or
    infinite for these counts; ``undefined`` maps each such field name to a plain-English reason.
    """

    before_count: int
    before_exposure: float
    after_count: int
    after_exposure: float
    confidence: float
    ratio: float | None
    lower: float | None
    upper: float | None
    p_value: float | None
    interpretation: str
    undefined: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON responses."""
        return asdict(self)


def rate_ratio(
    before_count: int,
    before_exposure: float,
    after_count: int,
    after_exposure: float,
    confidence: float = 0.95,
) -> RateRatio:
    """Ratio of the after rate to the before rate, with an exact conditional-binomial interval.

    Parameters
    ----------
    before_count, after_count : int
        Incidents recorded in each period.
    before_exposure, after_exposure : float
        Exposure in each period (e.g. days observed, or footfall); must be positive.
    confidence : float, default 0.95
        Two-sided confidence level.

    Notes
    -----
    Conditional on the total ``N = a + b`` (``a`` after, ``b`` before), the after count is
    binomial with ``pi = E_a RR / (E_a RR + E_b)`` (Ederer & Mantel 1974; Rothman et al. 2008,
    ch. 14). The Clopper-Pearson limits for ``pi``
    (``Beta(alpha/2; a, b+1)`` and ``Beta(1-alpha/2; a+1, b)``) map one-to-one onto the ratio via
    ``RR = pi / (1 - pi) * E_b / E_a``. The p-value is the exact two-sided binomial test of
    ``pi = E_a / (E_a + E_b)`` (RR = 1), as ``scipy.stats.binomtest`` and R's ``poisson.test`` do.

    With no incidents before, the ratio and its upper limit are infinite and reported as ``None``;
    with no incidents at all nothing can be estimated.

    Examples
    --------
    >>> result = rate_ratio(before_count=40, before_exposure=365, after_count=20, after_exposure=365)
    >>> result.ratio
    0.5
    >>> bool(result.upper < 1 and result.p_value < 0.05)
    True
    """
    _check_confidence(confidence)
    for name, count in (("before_count", before_count), ("after_count", after_count)):
        if count < 0 or int(count) != count:
            raise ValueError(f"{name} must be a non-negative integer")
    for name, exposure in (("before_exposure", before_exposure), ("after_exposure", after_exposure)):
        if not exposure > 0:
            raise ValueError(f"{name} must be positive")
    a, b = int(after_count), int(before_count)
    e_a, e_b = float(after_exposure), float(before_exposure)
    alpha = 1.0 - confidence
    undefined: dict[str, str] = {}
    total = a + b
    if total == 0:
        reason = "No incidents were recorded in either period, so there is no rate to compare."
        undefined = dict.fromkeys(("ratio", "lower", "upper", "p_value"), reason)
        return RateRatio(b, e_b, a, e_a, confidence, None, None, None, None, reason, undefined)

    def to_ratio(pi: float) -> float:
        return pi / (1.0 - pi) * e_b / e_a

    # Clopper & Pearson (1934) limits for the binomial proportion, in their beta-quantile form.
    pi_lower = 0.0 if a == 0 else float(stats.beta.ppf(alpha / 2, a, b + 1))
    pi_upper = 1.0 if b == 0 else float(stats.beta.ppf(1 - alpha / 2, a + 1, b))
    lower = to_ratio(pi_lower)
    upper: float | None = None
    ratio: float | None = None
    if b == 0:
        reason = "No incidents were recorded before, so the increase cannot be expressed as a ratio."
        undefined["ratio"] = reason
        undefined["upper"] = "The upper limit is infinite because no incidents were recorded before."
    else:
        ratio = (a / e_a) / (b / e_b)
        upper = to_ratio(pi_upper)
    p_value = float(stats.binomtest(a, total, e_a / (e_a + e_b)).pvalue)

    return RateRatio(
        before_count=b,
        before_exposure=e_b,
        after_count=a,
        after_exposure=e_a,
        confidence=confidence,
        ratio=ratio,
        lower=lower,
        upper=upper,
        p_value=p_value,
        interpretation=_interpret(ratio, lower, upper, confidence),
        undefined=undefined,
    )


def _interpret(ratio: float | None, lower: float, upper: float | None, confidence: float) -> str:
    level = f"{confidence:.0%}"
    if ratio is None:
        direction = "Incidents appeared where there were none before"
    elif ratio < 1:
        direction = f"The incident rate after was {1 - ratio:.0%} lower than before"
    elif ratio > 1:
        direction = f"The incident rate after was {ratio - 1:.0%} higher than before"
    else:
        direction = "The incident rate was the same before and after"
    if upper is not None and upper < 1:
        verdict = f"the fall is statistically clear ({level} interval entirely below 1)"
    elif lower > 1:
        verdict = f"the rise is statistically clear ({level} interval entirely above 1)"
    else:
        verdict = f"the change could be chance variation ({level} interval includes no change)"
    return f"{direction}; {verdict}."


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
