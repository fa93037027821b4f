"""Did harm move after an intervention? Weighted displacement quotient and difference test.

Both measures compare a **target** (where the intervention happened), a **buffer** around it (where
harm might be displaced to, or benefits diffuse to) and a **control** area (what would have happened
anyway), each counted before and after. Every measure carries a plain-English reading for a
multi-agency panel; a measure whose denominator is zero is reported as undefined with a reason,
never as inf or NaN.

References
----------
Bowers, K. J. & Johnson, S. D. (2003) Measuring the geographical displacement and diffusion of benefit
    effects of crime prevention activity. Journal of Quantitative Criminology 19(3), 275-301.
Guerette, R. T. (2009) Analyzing Crime Displacement and Diffusion. Problem-Oriented Guides for Police,
    Problem-Solving Tools Series No. 10, pp. 30-33 (worked WDQ and total net effect).
Wheeler, A. P. & Ratcliffe, J. H. (2018) A simple weighted displacement difference test to evaluate
    place based crime interventions. Crime Science 7:11.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats

#: (before, after) incident counts for one area.
Counts = tuple[float, float]

_EPSILON = 1e-12


@dataclass(frozen=True)
class Comparison:
    """The one set of parameters for comparing harm before and after an intervention, shared by the
    displacement map, the findings page, the month by month (small maps and chart), the pack and the API's
    defaults, so a panel sees one reading everywhere. Fixed values (never the reader's: a reader who slides
    a buffer or a window around a place can difference out small counts) in whole calendar months.

    * target: the intervention's own area, or ``target_radius_m`` around it when it is a point;
    * buffer: a ring ``buffer_m`` wide around the target. 600 m reaches 700 m from a point site, about a
      10-minute walk: as far as young people moved from a venue in the practice story. On the demo the
      library the harm moved to is 509 m from the outlet, inside the buffer with its surroundings (a 400 m
      ring ended at 500 m and left it out, so the quotient read diffusion while harm rose there);
    * windows: ``months`` whole Europe/London calendar months either side of the start month (the start
      month is the first "after" month), fewer when the data do not reach that far (equal either side, so
      like is compared with like; complete months only). Six months after the WiFi-off ends before the next
      intervention nearby (the youth club, March 2026), so its effect is not mixed in;
    * control: the rest of the service area, unless the reader chooses a place or draws an area;
    * where-it-went: places and published-size cells within ``search_m``.
    """

    target_radius_m: float = 100.0
    buffer_m: float = 600.0
    months: int = 6
    search_m: float = 1000.0
    cell_m: float = 150.0


COMPARISON = Comparison()


@dataclass(frozen=True)
class DisplacementMeasure:
    """One number for the panel: its value (``None`` when undefined), what it means, and why if undefined."""

    name: str
    value: float | None
    interpretation: str
    undefined_reason: str | None = None

    @property
    def defined(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class WeightedDisplacementQuotient:
    """Bowers & Johnson (2003) measures for one target/buffer/control comparison."""

    success_measure: DisplacementMeasure
    buffer_displacement_measure: DisplacementMeasure
    wdq: DisplacementMeasure
    total_net_effect: DisplacementMeasure

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def weighted_displacement_quotient(
    target: Counts, buffer: Counts, control: Counts
) -> WeightedDisplacementQuotient:
    """Weighted displacement quotient (WDQ) and total net effect.

    Parameters
    ----------
    target, buffer, control : (before, after)
        Incident counts in the intervention area (R), its buffer (D) and the control area (C).

    Notes
    -----
    Bowers & Johnson (2003, pp. 283-285), with b = before and a = after:

    * success measure ``Ra/Ca - Rb/Cb`` (negative: the target improved relative to control);
    * buffer displacement measure ``Da/Ca - Db/Cb`` (positive: displacement; negative: diffusion);
    * ``WDQ = buffer displacement measure / success measure``;
    * total net effect ``(Rb Ca/Cb - Ra) - (Da - Db Ca/Cb)``, in incidents: positive means that
      many incidents were prevented overall once displacement into the buffer is subtracted
      (Bowers & Johnson 2003, p. 286; Guerette 2009, p. 33).

    The WDQ is only meaningful when the success measure is negative (Bowers & Johnson 2003,
    p. 285); its reading then follows their scale: > 0 diffusion of benefits (> 1: the buffer gained
    more than the target), 0 no change in the buffer, between -1 and 0 some displacement but less
    than the benefit, -1 displacement cancels the benefit, < -1 counter-productive overall.

    Examples
    --------
    >>> result = weighted_displacement_quotient(target=(100, 50), buffer=(100, 150), control=(100, 100))
    >>> result.success_measure.value, result.buffer_displacement_measure.value, result.wdq.value
    (-0.5, 0.5, -1.0)
    >>> result.total_net_effect.value
    0.0
    """
    rb, ra = _pair("target", target)
    db, da = _pair("buffer", buffer)
    cb, ca = _pair("control", control)

    no_control = "The control area recorded no incidents {when}, so change cannot be judged against it."
    if cb == 0 or ca == 0:
        when = "before or after" if cb == 0 and ca == 0 else ("before" if cb == 0 else "after")
        reason = no_control.format(when=when)
        undefined = {
            key: DisplacementMeasure(key, None, "Undefined: " + reason, reason)
            for key in ("success_measure", "buffer_displacement_measure", "wdq")
        }
        if cb == 0:
            tne = DisplacementMeasure("total_net_effect", None, "Undefined: " + reason, reason)
        else:
            tne = _total_net_effect(rb, ra, db, da, cb, ca)
        return WeightedDisplacementQuotient(
            undefined["success_measure"], undefined["buffer_displacement_measure"], undefined["wdq"], tne
        )

    success = ra / ca - rb / cb
    displacement = da / ca - db / cb
    return WeightedDisplacementQuotient(
        success_measure=DisplacementMeasure("success_measure", success, _read_success(success)),
        buffer_displacement_measure=DisplacementMeasure(
            "buffer_displacement_measure", displacement, _read_buffer(displacement)
        ),
        wdq=_wdq(success, displacement),
        total_net_effect=_total_net_effect(rb, ra, db, da, cb, ca),
    )


@dataclass(frozen=True)
class WeightedDisplacementDifference:
    """Wheeler & Ratcliffe (2018) WDD test: a count difference-in-differences including the buffer."""

    wdd: float
    local_difference: float
    displacement_difference: float
    variance: float
    standard_error: float
    z: float | None
    p_value: float | None
    lower: float | None
    upper: float | None
    confidence: float
    interpretation: str
    undefined_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def weighted_displacement_difference(
    treated: Counts,
    control: Counts,
    treated_buffer: Counts,
    control_buffer: Counts,
    confidence: float = 0.95,
) -> WeightedDisplacementDifference:
    """Weighted displacement difference test (Wheeler & Ratcliffe 2018).

    Parameters
    ----------
    treated, control, treated_buffer, control_buffer : (before, after)
        Incident counts. ``control_buffer`` is the buffer around the control area.
    confidence : float, default 0.95
        Level of the normal-approximation interval.

    Notes
    -----
    Wheeler & Ratcliffe (2018, eqs. 1-3) with ``ΔX = X_after - X_before``::

        WDD = ΔT - ΔCt + ΔD - ΔCd
        Var(WDD) = T0 + T1 + Ct0 + Ct1 + D0 + D1 + Cd0 + Cd1   (independent Poisson counts)
        z = WDD / sqrt(Var),   interval WDD ± z_(1-α/2) sqrt(Var)

    A negative WDD is the number of incidents prevented net of displacement.

    Examples
    --------
    >>> wdd = weighted_displacement_difference((207, 110), (308, 318), (178, 157), (150, 140))
    >>> wdd.wdd, wdd.variance, round(wdd.z, 2)  # Wheeler & Ratcliffe (2018) worked example
    (-118.0, 1568.0, -2.98)
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    t0, t1 = _pair("treated", treated)
    c0, c1 = _pair("control", control)
    d0, d1 = _pair("treated_buffer", treated_buffer)
    cd0, cd1 = _pair("control_buffer", control_buffer)
    local = (t1 - t0) - (c1 - c0)
    spill = (d1 - d0) - (cd1 - cd0)
    wdd = local + spill
    variance = t0 + t1 + c0 + c1 + d0 + d1 + cd0 + cd1
    se = math.sqrt(variance)
    if se == 0:
        reason = "No incidents were recorded in any area or period, so there is nothing to test."
        return WeightedDisplacementDifference(
            wdd,
            local,
            spill,
            variance,
            se,
            None,
            None,
            None,
            None,
            confidence,
            "Undefined: " + reason,
            reason,
        )
    z = wdd / se
    p = float(2 * stats.norm.sf(abs(z)))
    half_width = float(stats.norm.ppf(0.5 + confidence / 2)) * se
    lower, upper = wdd - half_width, wdd + half_width
    return WeightedDisplacementDifference(
        wdd=wdd,
        local_difference=local,
        displacement_difference=spill,
        variance=variance,
        standard_error=se,
        z=z,
        p_value=p,
        lower=lower,
        upper=upper,
        confidence=confidence,
        interpretation=_read_wdd(wdd, lower, upper, confidence),
    )


@dataclass(frozen=True)
class DisplacementReport:
    """Counts for all four areas with both displacement analyses, ready for JSON."""

    target: Counts
    buffer: Counts
    control: Counts
    control_buffer: Counts | None
    quotient: WeightedDisplacementQuotient
    difference: WeightedDisplacementDifference | None
    difference_undefined_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def displacement_report(
    target: Counts, buffer: Counts, control: Counts, control_buffer: Counts | None = None
) -> DisplacementReport:
    """Both analyses at once; the WDD needs a buffer around the control area and is skipped without one.

    Examples
    --------
    >>> report = displacement_report((100, 50), (100, 150), (100, 100))
    >>> report.quotient.wdq.value, report.difference is None
    (-1.0, True)
    """
    if control_buffer is None:
        return DisplacementReport(
            target, buffer, control, None, weighted_displacement_quotient(target, buffer, control), None,
            "The difference test needs counts for a buffer around the control area.",
        )  # fmt: skip
    return DisplacementReport(
        target,
        buffer,
        control,
        control_buffer,
        weighted_displacement_quotient(target, buffer, control),
        weighted_displacement_difference(target, control, buffer, control_buffer),
    )


def _pair(name: str, counts: Counts) -> tuple[float, float]:
    if len(counts) != 2:
        raise ValueError(f"{name} must be a (before, after) pair")
    before, after = float(counts[0]), float(counts[1])
    if not (math.isfinite(before) and math.isfinite(after)) or before < 0 or after < 0:
        raise ValueError(f"{name} counts must be finite and non-negative")
    return before, after


def _read_success(success: float) -> str:
    if success < -_EPSILON:
        return "Harm at the target fell relative to the control area."
    if success > _EPSILON:
        return "Harm at the target rose relative to the control area: no sign the intervention worked there."
    return "Harm at the target changed in step with the control area: no sign of an effect."


def _read_buffer(displacement: float) -> str:
    if displacement > _EPSILON:
        return "Harm in the buffer rose relative to the control area, consistent with displacement."
    if displacement < -_EPSILON:
        return (
            "Harm in the buffer fell relative to the control area, consistent with a diffusion of benefits."
        )
    return "Harm in the buffer changed in step with the control area: no displacement or diffusion."


def _wdq(success: float, displacement: float) -> DisplacementMeasure:
    if abs(success) <= _EPSILON:
        reason = (
            "The target changed exactly as the control area did, so there is no effect to compare against."
        )
        return DisplacementMeasure("wdq", None, "Undefined: " + reason, reason)
    wdq = displacement / success
    if success > 0:
        reading = (
            "Not meaningful: the quotient only applies when harm at the target fell relative to control "
            "(Bowers & Johnson 2003)."
        )
    elif wdq > 1:
        reading = (
            "Diffusion of benefits larger than the effect at the target itself: the buffer gained even more."
        )
    elif wdq > _EPSILON:
        reading = "Diffusion of benefits: the buffer also improved, adding to the effect at the target."
    elif wdq >= -_EPSILON:
        reading = "No displacement or diffusion: the buffer changed in step with the control area."
    elif wdq > -1 + _EPSILON:
        reading = (
            "Some displacement into the buffer, but less than the reduction at the target: a net benefit."
        )
    elif wdq >= -1 - _EPSILON:
        reading = "Displacement into the buffer cancelled out the reduction at the target: no net benefit."
    else:
        reading = "Displacement exceeded the reduction at the target: counter-productive overall."
    return DisplacementMeasure("wdq", wdq, reading)


def _total_net_effect(
    rb: float, ra: float, db: float, da: float, cb: float, ca: float
) -> DisplacementMeasure:
    if cb == 0:
        reason = "The control area recorded no incidents before, so the expected trend is unknown."
        return DisplacementMeasure("total_net_effect", None, "Undefined: " + reason, reason)
    trend = ca / cb
    # Bowers & Johnson (2003, p. 286): incidents prevented at the target minus those displaced to the buffer.
    effect = (rb * trend - ra) - (da - db * trend)
    if effect > _EPSILON:
        reading = (
            f"About {effect:.1f} incidents prevented overall, after allowing for displacement to the buffer."
        )
    elif effect < -_EPSILON:
        reading = f"About {-effect:.1f} more incidents overall than expected, after allowing for the buffer."
    else:
        reading = "No net change once displacement to the buffer is allowed for."
    return DisplacementMeasure("total_net_effect", effect, reading)


def _read_wdd(wdd: float, lower: float, upper: float, confidence: float) -> str:
    level = f"{confidence:.0%}"
    if wdd < 0:
        direction = f"About {-wdd:.0f} fewer incidents than expected, net of displacement"
    elif wdd > 0:
        direction = f"About {wdd:.0f} more incidents than expected, net of displacement"
    else:
        direction = "No change relative to the control areas"
    if upper < 0:
        verdict = f"a statistically clear reduction ({level} interval below zero)"
    elif lower > 0:
        verdict = f"a statistically clear increase ({level} interval above zero)"
    else:
        verdict = f"could be chance variation ({level} interval includes zero)"
    return f"{direction}: {verdict}."
