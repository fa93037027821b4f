"""The deterministic demo scenario: DESIGN.md's seed story as pure data.

A fictional town centre laid over Luton's coordinates (every name is invented) and 24 months of
incidents, 2024-12-01 to 2026-11-30. A fast-food outlet is a place of concern; on 2025-09-01 it turns
off its customer WiFi; harm moves about 500 m to the library, which stops being a safe space; on
2026-03-02 a pop-up youth club and staff training start there; harm falls and the library is a safe
space again from 2026-06-01. Around the story sits police.uk-style background noise, clustered on a
few streets and the bus station, so hotspot and displacement analysis has something to separate the
story from.

Pure data: stdlib and numpy only, no database. The loader in ``app/`` writes it into PostGIS.

Examples
--------
>>> scenario = build_demo_scenario()
>>> scenario.wifi_off_on.isoformat(), scenario.youth_club_on.isoformat()
('2025-09-01', '2026-03-02')
>>> build_demo_scenario() == scenario
True
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from geo.vocabulary import LONDON


@dataclass(frozen=True)
class DemoPlace:
    key: str
    name: str
    kind: str
    lon: float
    lat: float
    polygon: list[tuple[float, float]] | None
    address: str | None
    opening_hours: str | None
    place_manager: str | None


@dataclass(frozen=True)
class DemoDesignation:
    place_key: str
    kind: str
    valid_from: datetime
    valid_to: datetime | None
    level: str | None
    reason: str | None
    review_by: date | None
    scheme: str | None
    age_min: int | None
    age_max: int | None
    help_offered: tuple[str, ...]
    accessibility: str | None
    verified_on: date | None


@dataclass(frozen=True)
class DemoGuardian:
    place_key: str
    role: str
    description: str
    trainings: tuple[tuple[str, date], ...]
    hours: str | None


@dataclass(frozen=True)
class DemoIncident:
    source: str
    source_ref: str
    occurred_from: datetime
    occurred_to: datetime | None
    harm_category: str
    source_category: str | None
    location_precision: str
    lon: float
    lat: float
    young_people: int | None
    description: str | None
    place_key: str | None


@dataclass(frozen=True)
class DemoIntervention:
    key: str
    place_key: str
    kind: str
    description: str
    owning_partner: str
    partners: tuple[str, ...]
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True)
class DemoSafetyMap:
    """One young person's agreed safety map (issue 21) as it is kept: the month, an age band, each mark as a
    place of the scenario with its rating and a phrase the worker marked shareable (or ``None``), and the
    places named as safe. No day, no worker, no young person."""

    month: date
    age_band: str
    marks: tuple[tuple[str, str, str | None], ...]  # place key, red/amber/green, shareable phrase
    safe_place_keys: tuple[str, ...]


@dataclass(frozen=True)
class DemoSuggestion:
    """A new place a young person named as safe, suggested for review (no link to any map)."""

    name: str
    month: date
    lon: float
    lat: float


@dataclass(frozen=True)
class DemoUser:
    role: str
    email: str
    password: str


@dataclass(frozen=True)
class DemoScenario:
    organisation_slug: str
    organisation_name: str
    service_area: list[tuple[float, float]]
    period_start: datetime
    period_end: datetime  # exclusive: 2026-12-01T00:00Z, the end of the last police.uk month window
    places: tuple[DemoPlace, ...]
    designations: tuple[DemoDesignation, ...]
    guardians: tuple[DemoGuardian, ...]
    incidents: tuple[DemoIncident, ...]
    interventions: tuple[DemoIntervention, ...]
    users: tuple[DemoUser, ...]
    wifi_off_on: date
    youth_club_on: date
    outlet_concern_from: date
    library_concern_from: date
    library_safe_again_on: date
    safety_maps: tuple[DemoSafetyMap, ...] = ()
    place_suggestions: tuple[DemoSuggestion, ...] = ()


PERIOD_START = datetime(2024, 12, 1, tzinfo=UTC)
PERIOD_END = datetime(2026, 12, 1, tzinfo=UTC)
MONTHS = 24
WIFI_OFF_ON = date(2025, 9, 1)
YOUTH_CLUB_ON = date(2026, 3, 2)
OUTLET_CONCERN_FROM = date(2025, 2, 10)
LIBRARY_CONCERN_FROM = date(2025, 10, 15)
LIBRARY_SAFE_AGAIN_ON = date(2026, 6, 1)

_LON0, _LAT0 = -0.4170, 51.8790
# Local equirectangular metres: at 5 km across the error against EPSG:27700 is well under a metre.
_M_PER_DEG_LAT = 111_250.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(_LAT0))
_HALF_SIDE_M = 2_500.0
_LONDON = LONDON
_SCHEME = "Safe Places Demo Town"


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return round(_LON0 + x / _M_PER_DEG_LON, 6), round(_LAT0 + y / _M_PER_DEG_LAT, 6)


def _month_start(i: int) -> datetime:
    """Start of scenario month ``i`` (0 = December 2024), UTC."""
    y, m = divmod(11 + i, 12)
    return datetime(2024 + y, m + 1, 1, tzinfo=UTC)


def _utc(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


# key, name, kind, x m, y m, outline radius m (area places), address, opening hours, place manager
_PLACES: tuple[tuple[str, str, str, float, float, float | None, str | None, str | None, str | None], ...] = (
    ("outlet", "Chicken Shack Express", "fast_food", -120, 60, None, "14 Wellgate Street",
     "Mo-Su 10:00-23:00", "Branch manager (franchisee)"),
    ("library", "Wellgate Central Library", "library", 250, -290, None, "1 Library Square",
     "Mo-Fr 09:00-19:00; Sa 10:00-16:00; Su off; PH off", "Library service manager"),
    ("school", "Riverside Academy", "school", -900, 700, None, "Riverside Lane",
     "Mo-Fr 08:00-16:00; PH off", "Headteacher"),
    ("community_centre", "Marsh Lane Community Centre", "community_centre", 700, 900, None,
     "22 Marsh Lane", "Mo-Fr 10:00-21:00; Sa 10:00-14:00", "Centre manager (charity trustee board)"),
    ("leisure_centre", "Brookfield Leisure Centre", "leisure_centre", -650, -850, None, "Brookfield Way",
     "Mo-Fr 06:30-22:00; Sa,Su 08:00-20:00", "Duty manager (leisure trust)"),
    ("youth_club", "The Lantern Youth Hub", "youth_club", 1300, 250, None, "5 Lantern Yard",
     "Mo-Fr 15:30-21:00; Sa 12:00-17:00", "Youth service team leader"),
    ("park", "Millbrook Park", "park", 650, -800, 160, "Millbrook Road", None, "Council parks team"),
    ("bus_station", "Townsend Bus Interchange", "transport_hub", -380, 360, None, "Station Parade",
     "Mo-Sa 05:30-23:30; Su 07:00-22:30", "Interchange operations manager"),
    ("shopping_centre", "The Mallgate Centre", "shopping_centre", 120, 300, None, "Mallgate",
     "Mo-Sa 08:00-18:00; Su 10:30-16:30", "Centre management (private owner)"),
    ("golden_wok", "Golden Wok Takeaway", "takeaway", 480, 160, None, "61 Tanner's Row",
     "Mo-Su 16:00-23:00", "Owner-operator"),
    ("pizza_point", "Pizza Point", "takeaway", -520, -220, None, "9 Coldharbour Street",
     "Mo-Su 16:00-23:30", "Shift manager"),
    ("corner_stop", "Corner Stop Convenience", "shop", 60, -560, None, "2 Flaxen Road",
     "Mo-Su 07:00-22:00", "Shop owner"),
    ("estate", "Crescent Fields Estate", "housing_estate", 1150, -350, 220, "Crescent Fields", None,
     "Housing association neighbourhood officer"),
    ("cage", "Crescent Fields Games Cage", "sports_cage", 1250, -150, None, "Crescent Fields",
     "Mo-Su 08:00-21:00", "Council parks team"),
)

# Street name, start (x, y), end (x, y), snap points, relative weight per point. Background harm in
# real police.uk data clusters on a handful of centre streets and the transport hub, not uniformly.
_HOT_STREETS: tuple[tuple[str, tuple[float, float], tuple[float, float], int, float], ...] = (
    ("Wellgate Street", (-750, 170), (600, 220), 14, 6.0),
    ("Station Parade", (-650, 300), (-200, 460), 8, 8.0),
    ("Tanner's Row", (420, -60), (520, 650), 8, 4.0),
    ("Coldharbour Street", (-600, -400), (-450, 100), 6, 3.0),
    ("Crescent Fields", (950, -500), (1350, -200), 8, 4.0),
)
_QUIET_STREETS = (
    "Alder Close", "Beacon Road", "Chalk Hill", "Dunmore Avenue", "Elm Grove", "Fairway Road",
    "Granary Lane", "Hollybush Road", "Ivy Terrace", "Juniper Walk", "Kestrel Way", "Linden Road",
    "Maple Drive", "Netherfield Road", "Orchard Street", "Pelham Road", "Quarry Lane", "Rook Street",
)

# police.uk crime type, share of a month's records, harm category (police.uk says nothing of ages).
_POLICE_MIX = (
    ("Anti-social behaviour", 0.29, "antisocial_behaviour"),
    ("Violence and sexual offences", 0.30, "serious_violence"),
    ("Shoplifting", 0.08, "other"), ("Public order", 0.08, "other"),
    ("Criminal damage and arson", 0.06, "other"), ("Other theft", 0.05, "other"),
    ("Vehicle crime", 0.04, "other"), ("Burglary", 0.03, "other"), ("Drugs", 0.03, "drugs"),
    ("Robbery", 0.01, "serious_violence"), ("Possession of weapons", 0.01, "weapon_carrying"),
    ("Theft from the person", 0.01, "other"), ("Bicycle theft", 0.005, "other"),
    ("Other crime", 0.005, "other"),
)
_COUNCIL_ASB_TYPES = ("Rowdy or nuisance behaviour", "Youths causing annoyance", "Intimidation",
                      "Drug paraphernalia found", "Vehicle nuisance")
# harm category, partner report type, location precision, description
_PARTNER_BACKGROUND = (
    ("peer_abuse", "School safeguarding referral", "exact", "Peer-on-peer bullying on the school route"),
    ("missing_episode", "Missing return interview", "street", "Young person spent missing time here"),
    ("online_harm", "School safeguarding referral", "street", "Online threats led to a planned meet-up here"),
    ("criminal_exploitation", "Youth service report", "street", "Concern about older youths running errands"),
)

# Story mixes: harm category -> weight.
_OUTLET_MIX = {"drugs": 0.4, "criminal_exploitation": 0.2, "antisocial_behaviour": 0.3,
               "weapon_carrying": 0.05, "serious_violence": 0.05}
_LIBRARY_DISPLACED_MIX = {"antisocial_behaviour": 0.45, "serious_violence": 0.2, "sexual_exploitation": 0.15,
                          "criminal_exploitation": 0.1, "drugs": 0.1}
_LIBRARY_QUIET_MIX = {"antisocial_behaviour": 0.8, "serious_violence": 0.1, "sexual_exploitation": 0.1}

# Expected incidents per month at each story place (months 0..23 = Dec 2024 .. Nov 2026).
_OUTLET_RATE = (26, 28, 30, 32, 33, 34, 35, 36, 36) + (5,) + (4,) * 14
_LIBRARY_RATE = (3,) * 9 + (24, 34, 36, 35, 34, 33) + (22, 14, 8) + (4,) * 6

_STORY_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "drugs": ("Young people seen exchanging small packages by the entrance",
              "Cannabis smell and a group passing items between tables"),
    "criminal_exploitation": ("Older males seen directing young people to run errands",
                              "Young people seen receiving phones and cash from an adult"),
    "antisocial_behaviour": ("Large group of young people shouting and blocking the entrance",
                             "Group refused to leave when asked by staff",
                             "Furniture damaged and staff verbally abused"),
    "serious_violence": ("Fight between two groups of young people", "Assault during a group argument"),
    "weapon_carrying": ("Young person reported showing a knife",),
    "sexual_exploitation": ("Staff saw an adult approaching young people and offering lifts",
                            "Unknown adult photographing young people and asking for numbers"),
}


def _story_source(harm: str, place_key: str, rng: np.random.Generator) -> tuple[str, str, str]:
    """(source, source category, location precision) for a story incident."""
    if harm in {"criminal_exploitation", "sexual_exploitation"}:
        reporter = "Library incident log" if place_key == "library" else "School safeguarding referral"
        if rng.random() < 0.4:
            reporter = "Youth service report"
        return "partner", reporter, "exact" if rng.random() < 0.8 else "street"
    if harm == "antisocial_behaviour" and rng.random() < 0.5:
        return "council_asb", str(rng.choice(_COUNCIL_ASB_TYPES[:3])), "exact"
    police_type = {"drugs": "Drugs", "antisocial_behaviour": "Anti-social behaviour",
                   "serious_violence": "Violence and sexual offences",
                   "weapon_carrying": "Possession of weapons"}[harm]
    return "police_uk", police_type, "snapped"


class _IncidentLog:
    """Collects incidents and hands out source references that are unique per source."""

    def __init__(self, seed: int, rng: np.random.Generator) -> None:
        self.seed, self.rng = seed, rng
        self.incidents: list[DemoIncident] = []
        self._serials: dict[str, int] = {}

    def _serial(self, key: str) -> int:
        self._serials[key] = self._serials.get(key, 0) + 1
        return self._serials[key]

    def _local_time(self, month: int, hours: tuple[int, int]) -> datetime:
        start = _month_start(month)
        days = (_month_start(month + 1) - start).days
        day = start.date() + timedelta(days=int(self.rng.integers(days)))
        clock = time(int(self.rng.integers(*hours)), int(self.rng.integers(60)))
        return datetime.combine(day, clock, tzinfo=_LONDON).astimezone(UTC)

    def add(self, source: str, month: int, harm: str, source_category: str, precision: str,
            xy: tuple[float, float], young_people: int | None, description: str | None,
            place_key: str | None = None, hours: tuple[int, int] = (15, 22)) -> None:
        lon, lat = _lonlat(*xy)
        occurred_to: datetime | None = None
        if source == "police_uk":
            # police.uk publishes only the month; the record's time is that whole month.
            occurred_from, occurred_to = _month_start(month), _month_start(month + 1)
            n = self._serial(source)
            if source_category == "Anti-social behaviour":
                # police.uk ASB rows carry no Crime ID; derive one from the row itself.
                basis = f"police-uk-asb|{occurred_from:%Y-%m}|{lon:.6f}|{lat:.6f}|{n}"
            else:
                basis = f"police-uk-crime|{self.seed}|{n}"
            ref = hashlib.sha256(basis.encode()).hexdigest()
        else:
            occurred_from = self._local_time(month, hours)
            prefix = "ASB" if source == "council_asb" else {
                "Library incident log": "LIB", "Youth service report": "YS",
                "School safeguarding referral": "SCH", "Missing return interview": "MRI",
            }[source_category]
            ref = f"{prefix}-{occurred_from.year}-{self._serial(prefix + str(occurred_from.year)):05d}"
        self.incidents.append(DemoIncident(
            source, ref, occurred_from, occurred_to, harm, source_category, precision, lon, lat,
            young_people, description, place_key))


def _jitter(rng: np.random.Generator, x: float, y: float, r_min: float, r_max: float) -> tuple[float, float]:
    r, a = rng.uniform(r_min, r_max), rng.uniform(0.0, 2 * math.pi)
    return x + r * math.cos(a), y + r * math.sin(a)


def _snap_points(rng: np.random.Generator, avoid: list[tuple[float, float]]
                 ) -> tuple[np.ndarray, list[str], np.ndarray, int]:
    """Anonymised map points in the style of police.uk; returns xy, street names, weights, hot count.

    No point lies within 100 m of a story place, so background noise never links to them.
    """
    xs: list[tuple[float, float]] = []
    names: list[str] = []
    weights: list[float] = []
    for name, (x0, y0), (x1, y1), n, w in _HOT_STREETS:
        for t in np.linspace(0.0, 1.0, n):
            xs.append((x0 + t * (x1 - x0) + rng.normal(0, 12), y0 + t * (y1 - y0) + rng.normal(0, 12)))
            names.append(name)
            weights.append(w * rng.uniform(0.5, 1.5))
    hot = len(xs)
    scatter = np.clip(rng.normal(0.0, 1000.0, size=(90, 2)), -2300, 2300)
    for i, (x, y) in enumerate(scatter):
        xs.append((float(x), float(y)))
        names.append(_QUIET_STREETS[i % len(_QUIET_STREETS)])
        weights.append(rng.uniform(0.3, 1.2))
    xy = np.array(xs)
    keep = np.ones(len(xy), dtype=bool)
    for ax, ay in avoid:
        keep &= np.hypot(xy[:, 0] - ax, xy[:, 1] - ay) > 100.0
    hot = int(keep[:hot].sum())
    return xy[keep], [n for n, k in zip(names, keep, strict=True) if k], np.array(weights)[keep], hot


def _background(log: _IncidentLog, rng: np.random.Generator, avoid: list[tuple[float, float]]) -> None:
    xy, streets, weights, hot = _snap_points(rng, avoid)
    p = weights / weights.sum()
    hot_p = weights[:hot] / weights[:hot].sum()
    types = [t for t, _, _ in _POLICE_MIX]
    shares = np.array([s for _, s, _ in _POLICE_MIX])
    harm_of = {t: h for t, _, h in _POLICE_MIX}
    for month in range(MONTHS):
        season = 1.0 + 0.12 * math.sin(2 * math.pi * (month - 3) / 12)  # summer peak
        for _ in range(int(rng.poisson(255 * season))):
            i = int(rng.choice(len(xy), p=p))
            crime = types[int(rng.choice(len(types), p=shares / shares.sum()))]
            log.add("police_uk", month, harm_of[crime], crime, "snapped", (xy[i, 0], xy[i, 1]), None,
                    f"On or near {streets[i]}")
        for _ in range(int(rng.poisson(18 * season))):
            i = int(rng.choice(hot, p=hot_p))
            asb_type = str(rng.choice(_COUNCIL_ASB_TYPES))
            log.add("council_asb", month, "antisocial_behaviour", asb_type, "exact",
                    _jitter(rng, xy[i, 0], xy[i, 1], 0, 25), int(rng.integers(2, 9)),
                    f"Resident complaint, {streets[i]}")
        for _ in range(int(rng.poisson(8))):
            i = int(rng.choice(len(xy), p=p))
            harm, kind, precision, text = _PARTNER_BACKGROUND[int(rng.integers(len(_PARTNER_BACKGROUND)))]
            log.add("partner", month, harm, kind, precision, _jitter(rng, xy[i, 0], xy[i, 1], 0, 25),
                    int(rng.integers(1, 4)), text, hours=(14, 21))


def _story(log: _IncidentLog, rng: np.random.Generator, place_key: str, xy: tuple[float, float],
           rates: tuple[int, ...], mix_for_month: list[dict[str, float]], hours: tuple[int, int]) -> None:
    # police.uk snaps a venue's crimes onto a few fixed anonymised points close by.
    snaps = [_jitter(rng, *xy, 12, 35) for _ in range(3)]
    for month, rate in enumerate(rates):
        mix = mix_for_month[month]
        harms, w = list(mix), np.array(list(mix.values()))
        for _ in range(int(rng.poisson(rate))):
            harm = harms[int(rng.choice(len(harms), p=w / w.sum()))]
            source, category, precision = _story_source(harm, place_key, rng)
            if source == "police_uk":
                street = "Library Square" if place_key == "library" else "Wellgate Street"
                log.add(source, month, harm, category, precision, snaps[int(rng.integers(3))], None,
                        f"On or near {street}")
                continue
            # Partners know which venue they are reporting on; residents mostly give an address only.
            explicit = source == "partner" or rng.random() < 0.2
            text = str(rng.choice(_STORY_DESCRIPTIONS[harm]))
            log.add(source, month, harm, category, precision, _jitter(rng, *xy, 3, 38),
                    int(rng.integers(2, 13)) if source == "council_asb" else int(rng.integers(1, 4)),
                    text, place_key if explicit else None, hours)


def _designations() -> tuple[DemoDesignation, ...]:
    start = PERIOD_START

    def concern(key: str, frm: date, to: date | None, level: str, reason: str,
                review: date) -> DemoDesignation:
        return DemoDesignation(key, "concern", _utc(frm), _utc(to) if to else None, level, reason, review,
                               None, None, None, (), None, None)

    def safe(key: str, frm: datetime, to: date | None, why: str, ages: tuple[int, int],
             help_offered: tuple[str, ...], access: str, verified: date) -> DemoDesignation:
        return DemoDesignation(key, "safe_space", frm, _utc(to) if to else None, None, why, None, _SCHEME,
                               ages[0], ages[1], help_offered, access, verified)

    library_help = ("phone a trusted adult", "wait indoors", "charge a phone", "first aid")
    return (
        concern("outlet", OUTLET_CONCERN_FROM, date(2025, 12, 1), "high",
                "Police and school reports of young people being drawn into drug dealing in and around the "
                "restaurant; older males seen directing them. Context, not the young people, is the focus.",
                date(2025, 11, 30)),
        concern("outlet", date(2025, 12, 1), date(2026, 3, 1), "low",
                "Harm fell after the WiFi was switched off; kept under watch while displacement is assessed.",
                date(2026, 3, 1)),
        safe("library", start, LIBRARY_CONCERN_FROM, "Staffed, free, warm space open after school", (11, 18),
             library_help, "Step-free entrance, accessible toilet, quiet room", date(2024, 10, 7)),
        concern("library", LIBRARY_CONCERN_FROM, LIBRARY_SAFE_AGAIN_ON, "high",
                "Young people displaced from the fast-food outlet now gather here after school; "
                "fights, ASB complaints and unsafe adults approaching young people. Library asked for help.",
                date(2026, 4, 15)),
        safe("library", _utc(LIBRARY_SAFE_AGAIN_ON), None,
             "Pop-up youth club co-designed with young people; staff trained in bystander intervention and "
             "adolescent development notice and raise safeguarding concerns", (11, 18),
             (*library_help, "youth worker on site weekday afternoons"),
             "Step-free entrance, accessible toilet, quiet room", date(2026, 5, 28)),
        safe("school", start, None, "Staff on site until 16:00 with a designated safeguarding lead", (11, 16),
             ("phone a trusted adult", "wait indoors", "first aid"), "Step-free reception",
             date(2024, 9, 16)),
        safe("community_centre", start, None, "Staffed reception into the evening, known to local families",
             (8, 18), ("phone a trusted adult", "wait indoors", "food and drink"),
             "Step-free, hearing loop at reception", date(2024, 11, 4)),
        safe("leisure_centre", start, None, "Staffed reception open late, CCTV and first aiders", (8, 18),
             ("phone a trusted adult", "wait indoors", "first aid"), "Step-free, changing places toilet",
             date(2025, 1, 20)),
        safe("youth_club", start, None, "Open-access youth provision with qualified youth workers", (11, 19),
             ("talk to a youth worker", "wait indoors", "food and drink", "charge a phone"),
             "Ground floor, step-free", date(2024, 11, 25)),
        concern("bus_station", date(2025, 4, 1), None, "medium",
                "Repeated robberies and fights among young people waiting for buses in the evening.",
                date(2026, 12, 31)),
    )


def _guardians() -> tuple[DemoGuardian, ...]:
    library_hours = "Mo-Fr 09:00-19:00; Sa 10:00-16:00"
    return (
        DemoGuardian("library", "staff", "Library staff on the teen floor",
                     (("bystander_intervention", date(2026, 3, 9)),
                      ("adolescent_development", date(2026, 3, 23)),
                      ("safeguarding", date(2026, 4, 13))), library_hours),
        DemoGuardian("library", "place_manager", "Library service manager",
                     (("bystander_intervention", date(2026, 3, 9)), ("safeguarding", date(2025, 11, 3))),
                     None),
        DemoGuardian("library", "youth_worker", "Youth worker running the pop-up youth club",
                     (("safeguarding", date(2025, 6, 10)), ("adolescent_development", date(2024, 5, 14))),
                     "Mo-Fr 15:00-19:00"),
        DemoGuardian("school", "staff", "Designated safeguarding lead and duty staff",
                     (("safeguarding", date(2024, 9, 2)),), "Mo-Fr 08:00-16:00"),
        DemoGuardian("community_centre", "volunteer", "Evening reception volunteers",
                     (("safeguarding", date(2025, 2, 12)),), "Mo-Fr 17:00-21:00"),
        DemoGuardian("community_centre", "place_manager", "Centre manager",
                     (("safeguarding", date(2024, 6, 3)),), "Mo-Fr 10:00-18:00"),
        DemoGuardian("leisure_centre", "staff", "Reception and lifeguard team",
                     (("safeguarding", date(2025, 1, 8)),), "Mo-Fr 06:30-22:00; Sa,Su 08:00-20:00"),
        DemoGuardian("youth_club", "youth_worker", "Qualified youth workers",
                     (("safeguarding", date(2024, 10, 1)), ("adolescent_development", date(2024, 10, 15))),
                     "Mo-Fr 15:30-21:00; Sa 12:00-17:00"),
        DemoGuardian("outlet", "place_manager", "Branch manager (franchisee)",
                     (("safeguarding", date(2025, 8, 20)),), "Mo-Su 10:00-23:00"),
        DemoGuardian("bus_station", "security", "Interchange security officers", (), "Mo-Su 15:00-23:30"),
    )


def _interventions() -> tuple[DemoIntervention, ...]:
    police, cs = "Police neighbourhood team", "Community safety partnership"
    return (
        DemoIntervention("outlet_patrols", "outlet", "enforcement",
                         "High-visibility patrols and stop checks around the restaurant", police, (cs,),
                         date(2025, 3, 3), date(2025, 5, 30)),
        DemoIntervention("wifi_off", "outlet", "disruption", "Restaurant disabled its customer WiFi", police,
                         ("Chicken Shack Express (franchisee)", cs), WIFI_OFF_ON, None),
        DemoIntervention("library_outreach", "library", "outreach",
                         "Detached youth work outreach around the library after school", "Youth service",
                         ("Library service",), date(2025, 10, 20), date(2026, 2, 27)),
        DemoIntervention("youth_club", "library", "youth_provision",
                         "Pop-up youth club in the library, co-designed with young people", "Youth service",
                         ("Library service", cs, "Young people's advisory group"), YOUTH_CLUB_ON, None),
        DemoIntervention("staff_training", "library", "guardianship_training",
                         "Bystander-intervention and adolescent-development training for library staff",
                         "Library service", ("Youth service", "Safeguarding children partnership"),
                         YOUTH_CLUB_ON, date(2026, 4, 30)),
        DemoIntervention("library_safe_place", "library", "safe_space_creation",
                         "Library re-accredited as a Safe Place after the review", "Library service",
                         (cs,), LIBRARY_SAFE_AGAIN_ON, None),
    )


# The demo town's streets: a 200 m grid (the block size of a British town centre's side streets,
# roughly) across the service area. Lines carry a vertex at every crossing so the walking graph
# (geo.walking joins coinciding vertices) is one connected piece.
_STREET_SPACING_M = 200.0
# The east-west road nearest Wellgate Street's incidents (y 170-220 m) and the outlet at "14 Wellgate Street"
# (y 60 m) carries the street's name, so the forms' example "like Wellgate Street" finds a street.
_WELLGATE_STREET_Y = 100.0


def demo_streets() -> tuple[tuple[str, tuple[tuple[float, float], ...]], ...]:
    """The demo town's street lines as (name, lon/lat vertices): drawn as the offline basemap.

    >>> streets = demo_streets()
    >>> len(streets), streets[0][0]
    (52, 'Alder Close')
    """
    h = _HALF_SIDE_M
    steps = int(2 * h / _STREET_SPACING_M) + 1
    ticks = [-h + i * _STREET_SPACING_M for i in range(steps)]
    names = [*_QUIET_STREETS, *(f"{n} East" for n in _QUIET_STREETS)]
    lines: list[tuple[str, tuple[tuple[float, float], ...]]] = []
    for i, x in enumerate(ticks):  # north-south roads
        lines.append((names[i % len(names)], tuple(_lonlat(x, y) for y in ticks)))
    for i, y in enumerate(ticks):  # east-west roads
        name = "Wellgate Street" if y == _WELLGATE_STREET_Y else names[(i + steps) % len(names)]
        lines.append((name, tuple(_lonlat(x, y) for x in ticks)))
    return tuple(lines)


# Safety mapping (issue 21): from July 2025 youth workers map with six young people a month who agree to share.
# (place key, rating, chance a map marks it, shareable phrases) — per period: the outlet is where young people
# feel unsafe throughout; the library while harm was displaced there (Oct 2025 to May 2026), and safe again
# after the youth club; the park's river path feels unsafe though little harm is recorded there (the "harm not
# reported?" difference); the games cage is named as safe but is not a safe space.
SAFETY_MAPS_FROM = date(2025, 7, 1)
SAFETY_MAPS_PER_MONTH = 6
_OUTLET_WORDS = ("older lads wait outside after school", "people ask you to carry things for them", None)
_SAFETY_MARKS: tuple[tuple[str, str, float, tuple[str | None, ...]], ...] = (
    ("outlet", "red", 0.85, _OUTLET_WORDS),
    ("park", "red", 0.75, ("the river path is dark and nobody is about", None)),
    ("bus_station", "amber", 0.5, ("fights at the bus stops in the evening", None)),
    ("youth_club", "green", 0.6, ("the youth workers listen", None)),
    ("cage", "green", 0.55, ("we play football there with the coach", None)),
    ("community_centre", "green", 0.3, (None,)),
)
_AGE_BAND_WEIGHTS = (("10_13", 0.2), ("14_15", 0.45), ("16_17", 0.3), ("18_25", 0.05))


def _safety_maps(seed: int, last_month: date) -> tuple[DemoSafetyMap, ...]:
    """The agreed safety maps, from their own generator (the incidents' generator is left untouched)."""
    rng = np.random.default_rng(seed + 21)
    maps = []
    month = SAFETY_MAPS_FROM
    bands = [band for band, _ in _AGE_BAND_WEIGHTS]
    weights = [weight for _, weight in _AGE_BAND_WEIGHTS]
    while month <= last_month:
        displaced = date(2025, 10, 1) <= month < LIBRARY_SAFE_AGAIN_ON
        library = (("library", "red", 0.6, ("fights outside after school", None)) if displaced
                   else ("library", "green", 0.5, ("the library staff help you", None)))
        for _ in range(SAFETY_MAPS_PER_MONTH):
            marks = []
            for key, rating, chance, phrases in (*_SAFETY_MARKS, library):
                if rng.random() < chance:
                    marks.append((key, rating, phrases[int(rng.integers(len(phrases)))]))
            safe = tuple(key for key, rating, _ in marks if rating == "green" and rng.random() < 0.7)
            band = str(rng.choice(bands, p=weights))
            maps.append(DemoSafetyMap(month, band, tuple(marks), safe))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return tuple(maps)


def _place_suggestions() -> tuple[DemoSuggestion, ...]:
    return (
        DemoSuggestion("Boxing club above the tyre shop", date(2026, 8, 1), *_lonlat(470, 420)),
        DemoSuggestion("Grandad's allotment shed", date(2026, 10, 1), *_lonlat(-300, -1200)),
    )


def build_demo_scenario(seed: int = 20241201) -> DemoScenario:
    """Build the demo scenario; the same seed always gives an equal scenario."""
    rng = np.random.default_rng(seed)
    places = []
    for key, name, kind, x, y, radius, address, hours, manager in _PLACES:
        ring = None
        if radius is not None:  # an irregular octagon around the point, closed
            ring = [_lonlat(x + radius * f * math.cos(k * math.pi / 4),
                            y + radius * f * math.sin(k * math.pi / 4))
                    for k, f in enumerate((1.0, 0.8, 1.1, 0.9, 1.0, 0.75, 1.05, 0.9))]
            ring.append(ring[0])
        places.append(DemoPlace(key, name, kind, *_lonlat(x, y), ring, address, hours, manager))
    xy = {p[0]: (float(p[3]), float(p[4])) for p in _PLACES}

    log = _IncidentLog(seed, rng)
    _background(log, rng, [xy["outlet"], xy["library"]])
    _story(log, rng, "outlet", xy["outlet"], _OUTLET_RATE, [_OUTLET_MIX] * MONTHS, (15, 23))
    library_mix = [_LIBRARY_DISPLACED_MIX if 9 <= m <= 15 else _LIBRARY_QUIET_MIX for m in range(MONTHS)]
    # After school, while the library is open (Europe/London clock).
    _story(log, rng, "library", xy["library"], _LIBRARY_RATE, library_mix, (15, 19))
    incidents = sorted(log.incidents, key=lambda i: (i.occurred_from, i.source, i.source_ref))

    h = _HALF_SIDE_M
    return DemoScenario(
        organisation_slug="demo-town",
        organisation_name="Demo Town Community Safety Partnership",
        service_area=[_lonlat(-h, -h), _lonlat(h, -h), _lonlat(h, h), _lonlat(-h, h), _lonlat(-h, -h)],
        period_start=PERIOD_START, period_end=PERIOD_END,
        places=tuple(places), designations=_designations(), guardians=_guardians(),
        incidents=tuple(incidents), interventions=_interventions(),
        users=(
            DemoUser("admin", "admin@demo.contextmap.test", "demo-admin-2026"),
            DemoUser("community_safety", "cs@demo.contextmap.test", "demo-cs-2026"),
            DemoUser("youth_worker", "youth@demo.contextmap.test", "demo-youth-2026"),
            DemoUser("panel", "panel@demo.contextmap.test", "demo-panel-2026"),
        ),
        wifi_off_on=WIFI_OFF_ON, youth_club_on=YOUTH_CLUB_ON, outlet_concern_from=OUTLET_CONCERN_FROM,
        library_concern_from=LIBRARY_CONCERN_FROM, library_safe_again_on=LIBRARY_SAFE_AGAIN_ON,
        safety_maps=_safety_maps(seed, date(2026, 11, 1)), place_suggestions=_place_suggestions(),
    )
