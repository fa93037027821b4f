"""Sunrise, sunset, dawn and dusk for the ``sunrise``/``sunset``/``dawn``/``dusk`` opening-hours times.

The algorithm of SunCalc 2 (Vladimir Agafonkin; solar coordinates after Meeus, *Astronomical
Algorithms*, with Delta T), the library opening_hours.js uses, so the two agree to the minute
(tests/differential).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from functools import lru_cache

from geo.opening_hours_syntax import STAND_IN
from geo.vocabulary import LONDON

__all__ = ["sun_minutes"]


@lru_cache(maxsize=4096)
def sun_minutes(day: date, event: str, latitude: float, longitude: float) -> int:
    """Minutes after local midnight of a sun event on ``day`` in Europe/London, rounded down.

    The algorithm of SunCalc 2 (Vladimir Agafonkin; solar coordinates after Meeus, *Astronomical
    Algorithms*, with Delta T), the library opening_hours.js uses: sunrise/sunset at -0.833 degrees,
    dawn/dusk (civil) at -6 degrees. Polar day or night (not in the UK) falls back to the reference's
    stand-in times.

    Examples
    --------
    >>> divmod(sun_minutes(date(2026, 6, 21), "sunset", 51.5074, -0.1278), 60)  # London, midsummer
    (21, 21)
    """
    rad = math.pi / 180
    lw, phi = rad * -longitude, rad * latitude
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000
    days = noon / 864e5 - 0.5 + 2440588 - 2451545
    j0 = 9e-4
    transit = _solar_transit(round(days - j0 - lw / (2 * math.pi)) + j0 + lw / (2 * math.pi), lw)
    declination = _sun_coordinates(_days_tt(transit))[1]
    angle = (-0.833 if event in ("sunrise", "sunset") else -6.0) * rad
    sign = 1 if event in ("sunset", "dusk") else -1
    cosine = (math.sin(angle) - math.sin(phi) * math.sin(declination)) / (math.cos(phi) * math.cos(declination))
    if not -1 <= cosine <= 1:
        return STAND_IN[event]
    moment = transit + sign * math.acos(cosine) / (2 * math.pi)
    for _ in range(2):
        ra, dec = _sun_coordinates(_days_tt(moment))
        hour_angle = _wrap_pi(_sidereal_time(moment, lw) - ra)
        altitude = math.asin(math.sin(phi) * math.sin(dec) + math.cos(phi) * math.cos(dec) * math.cos(hour_angle))
        sine = math.cos(phi) * math.cos(dec) * math.sin(hour_angle)
        if abs(sine) < 1e-6:
            break
        moment += (altitude - angle) / (2 * math.pi * sine)
    instant = datetime.fromtimestamp((moment + 2451545 + 0.5 - 2440588) * 86400, tz=UTC).astimezone(LONDON)
    return instant.hour * 60 + instant.minute


def _delta_t(days: float) -> float:
    """Delta T in seconds (Espenak and Meeus polynomials, as SunCalc 2), for 2005-2050 and after."""
    year = 2000 + days / 365.2425
    if year < 2050:
        t = year - 2000
        return 62.92 + t * (0.32217 + t * 0.005589)
    t = (year - 1820) / 100
    return -20 + 32 * t * t - 0.5628 * (2150 - year)


def _days_tt(days: float) -> float:
    return days + _delta_t(days) / 86400


def _sidereal_time(days: float, lw: float) -> float:
    return math.pi / 180 * (280.46061837 + 360.98564736629 * days) - lw


def _wrap_pi(angle: float) -> float:
    return angle - 2 * math.pi * round(angle / (2 * math.pi))


def _sun_coordinates(days: float) -> tuple[float, float]:
    """Right ascension and declination of the sun (Meeus, ch. 25, low accuracy), radians."""
    rad = math.pi / 180
    t = days / 36525
    mean_longitude = rad * (280.46646 + t * (36000.76983 + t * 3032e-7))
    anomaly = rad * (357.52911 + t * (35999.05029 - t * 1537e-7))
    sin_m, cos_m = math.sin(anomaly), math.cos(anomaly)
    centre = rad * ((1.914602 - t * (0.004817 + t * 14e-6)) * sin_m + (0.019993 - 101e-6 * t) * 2 * sin_m * cos_m
                    + 289e-6 * sin_m * (3 - 4 * sin_m * sin_m))
    node = rad * (125.04 - 1934.136 * t)
    longitude = mean_longitude + centre - rad * (0.00569 + 0.00478 * math.sin(node))
    obliquity = rad * (23.439291 - t * (0.0130042 + t * (16e-8 - t * 504e-9))) + rad * 0.00256 * math.cos(node)
    return (math.atan2(math.cos(obliquity) * math.sin(longitude), math.cos(longitude)),
            math.asin(math.sin(obliquity) * math.sin(longitude)))


def _solar_transit(days: float, lw: float) -> float:
    for _ in range(3):
        hour_angle = _wrap_pi(_sidereal_time(days, lw) - _sun_coordinates(_days_tt(days))[0])
        days -= hour_angle / (2 * math.pi)
    return days
