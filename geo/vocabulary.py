"""The controlled vocabularies of the domain model (DESIGN.md), shared by the service and analysis."""

from __future__ import annotations

from zoneinfo import ZoneInfo

# Times are stored in UTC and shown, grouped into days and months, in UK local time (DESIGN.md).
LONDON = ZoneInfo("Europe/London")

ROLES = ("admin", "community_safety", "youth_worker", "panel")

PLACE_KINDS = (
    "fast_food", "takeaway", "library", "park", "sports_cage", "school", "college", "youth_club",
    "community_centre", "leisure_centre", "shopping_centre", "shop", "transport_hub", "bus_route",
    "housing_estate", "stairwell", "hotel", "arcade", "faith_setting", "street", "other",
)

DESIGNATION_KINDS = ("concern", "safe_space")
CONCERN_LEVELS = ("low", "medium", "high")

GUARDIAN_ROLES = ("place_manager", "staff", "youth_worker", "volunteer", "security")
TRAINING_KINDS = ("bystander_intervention", "adolescent_development", "safeguarding")

HARM_CATEGORIES = (
    "criminal_exploitation", "sexual_exploitation", "serious_violence", "weapon_carrying", "peer_abuse",
    "missing_episode", "drugs", "antisocial_behaviour", "online_harm", "other",
)
INCIDENT_SOURCES = ("police_uk", "council_asb", "partner", "manual")
# Sources only an import writes: their references de-duplicate re-imports, so a hand-made record claiming one
# would make the genuine row be skipped later as a duplicate (an outside test did this with a police.uk Crime ID).
IMPORTED_SOURCES = ("police_uk", "partner")
LOCATION_PRECISIONS = ("exact", "snapped", "street")

INTERVENTION_KINDS = (
    "disruption", "environmental_change", "guardianship_training", "youth_provision", "outreach",
    "enforcement", "licensing", "safe_space_creation",
)

# Safety mapping with a young person (issue 21): how they feel about a place or route, and the only thing
# recorded about them — a band of ages wide enough that it names nobody.
SAFETY_RATINGS = ("red", "amber", "green")
SAFETY_RATING_WORDS = {"red": "Unsafe", "amber": "Not sure", "green": "Safe"}
AGE_BANDS = ("10_13", "14_15", "16_17", "18_25")
AGE_BAND_WORDS = {"10_13": "10 to 13", "14_15": "14 or 15", "16_17": "16 or 17", "18_25": "18 to 25"}
