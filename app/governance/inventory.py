"""The data inventory's descriptions: what every table and column the migrations create holds, for the
records of processing (UK GDPR Art. 30) and the DPIA (Art. 35).

One entry per table and column. ``tests/db/test_data_inventory.py`` fails when the migrated schema has a
table or column not described here (or a description for one that no longer exists), so a migration
cannot add data without saying what it is. Who may read a table is stated as the role gates of
:mod:`app.policy` (their roles are read from there); row-level security, grants and cascades are read
from the live database by :mod:`app.governance.schema`; retention texts are filled in from the settings.

Vocabulary (kept short so the rendered tables stay readable):

* ``personal``: whether a value is personal data (UK GDPR Art. 4(1)) and whose. contextmap stores no
  identity of any young person by design (DESIGN.md "No child identities"); incident rows are still
  treated as personal data about young people because a time, a place and a harm category may single
  someone out to a reader who knows more (ICO guidance on identifiability).
* ``sensitive``: special-category (Art. 9) or criminal-offence data (Art. 10; DPA 2018 s.11(2)).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app import policy
from app.policy import Gate

# ---- personal data: whose -----------------------------------------------------------------------------------
NO = "no"
STAFF = "yes: professionals who use contextmap"
PROFESSIONAL = "possibly: may name a professional (place manager, partner staff)"
YOUNG_PEOPLE_INDIRECT = "treat as yes: young people, indirectly (no identity stored; see note)"
FREE_TEXT = "risk: free text; must not identify a young person (see DPIA risk R3)"

# ---- special category (Art. 9) / criminal offence (Art. 10) -------------------------------------------------
OFFENCE = "criminal-offence data (Art. 10) where it records an offence"
OFFENCE_AND_SPECIAL = ("criminal-offence data (Art. 10); may reveal sex life or health (Art. 9) "
                       "for sexual exploitation, missing episodes")
FREE_TEXT_SENSITIVE = "may contain Art. 9/10 data if written in; policy forbids identifying anyone"

# ---- where a value goes -------------------------------------------------------------------------------------
API = "JSON API (/api)"
EXPORTS = "exports (/api/exports: GeoJSON, CSV, GeoPackage)"
OGC = "OGC API – Features (/ogc)"
TILES = "vector tiles (/tiles)"
MAPS = "maps (/maps)"
PANEL = "panel and shareable outputs (disclosure-controlled)"
AUDIT_LOG = "audit log (/api/audit, admins)"
NOWHERE = "nowhere: used inside the database only"

# What a panel member sees of a column (DESIGN.md: places etc. "without free-text notes"; incidents
# "aggregates only").
SEEN = "yes"
WITHHELD = "withheld (free text)"
AGGREGATES = "only as disclosure-controlled counts per fixed cell and month"
NOT_SHOWN = "no"


@dataclass(frozen=True)
class Column:
    holds: str
    personal: str = NO
    sensitive: str = ""
    panel: str = SEEN
    flows: tuple[str, ...] | None = None  # None: the table's flows


@dataclass(frozen=True)
class Access:
    """One way a table is read in the application: through the routes behind ``gate``."""

    gate: Gate
    what: str


@dataclass(frozen=True)
class Table:
    purpose: str
    subjects: str  # whose data the rows are
    readers: tuple[Access, ...]
    retention: str  # str.format()-ed with the settings
    flows: tuple[str, ...]
    columns: dict[str, Column] = field(default_factory=dict)


# Columns most tables share, described once; a table may still describe them itself.
COMMON: dict[str, Column] = {
    "id": Column("Row identifier (a number, meaningless outside contextmap)."),
    "organisation_id": Column("The organisation (tenant) the row belongs to: the row-level-security key.",
                              flows=(NOWHERE,)),
    "created_at": Column("When the row was recorded (UTC)."),
    "updated_at": Column("When the row was last changed (UTC)."),
}

KEPT_WHILE_IN_USE = ("Kept while the organisation uses contextmap; removed when a user with the right role "
                     "deletes it, or with the organisation.")

SAFETY_MAP_RETENTION = ("Kept while the organisation uses contextmap and removed with it; if a young person "
                        "withdraws agreement, the map is deleted by the reference the worker was given "
                        "(`contextmap safety-maps withdraw SM-N --org SLUG`; its marks and places cascade).")

_INCIDENT_COLUMNS: dict[str, Column] = {
    "id": Column("Row identifier (a number, meaningless outside contextmap).", panel=NOT_SHOWN),
    "created_at": Column("When the row was recorded (UTC).", panel=NOT_SHOWN),
    "occurred_from": Column("When the incident happened, or the start of the window when only approximate.",
                            YOUNG_PEOPLE_INDIRECT, OFFENCE, AGGREGATES),
    "occurred_to": Column("End of the time window when the time is approximate.", YOUNG_PEOPLE_INDIRECT,
                          OFFENCE, AGGREGATES),
    "harm_category": Column("Harm category (criminal exploitation, sexual exploitation, serious violence, "
                            "weapon carrying, peer abuse, missing episode, drugs, anti-social behaviour, "
                            "online harm, other).", YOUNG_PEOPLE_INDIRECT, OFFENCE_AND_SPECIAL, AGGREGATES),
    "source_category": Column("The source's own category, e.g. the police.uk crime type.", YOUNG_PEOPLE_INDIRECT,
                              OFFENCE, NOT_SHOWN),
    "source": Column("Where the record came from (police.uk import, partner import, manual entry).",
                     panel=NOT_SHOWN),
    "source_ref": Column("The source's reference (e.g. police.uk Crime ID) used to skip duplicates; never a "
                         "case number of a young person.", YOUNG_PEOPLE_INDIRECT, OFFENCE, NOT_SHOWN),
    "location_precision": Column("How exact the location is: exact, snapped to a point, or street.",
                                 panel=NOT_SHOWN),
    "young_people": Column("How many young people were involved (a number, no identities).",
                           YOUNG_PEOPLE_INDIRECT, "", NOT_SHOWN),
    "description": Column("Free-text description of what happened.", FREE_TEXT, FREE_TEXT_SENSITIVE, NOT_SHOWN),
    "place_id": Column("The place the incident is linked to (explicitly or the nearest within a set distance).",
                       YOUNG_PEOPLE_INDIRECT, "", AGGREGATES),
    "place_link": Column("How the place link was made: explicit or automatic.", panel=NOT_SHOWN),
    "geom": Column("Where it happened (a point, longitude/latitude).", YOUNG_PEOPLE_INDIRECT, OFFENCE, AGGREGATES),
    "geom_metric": Column("The same point in the analysis CRS (generated), for distances and grids.",
                          YOUNG_PEOPLE_INDIRECT, OFFENCE, AGGREGATES, flows=(NOWHERE,)),
}

TABLES: dict[str, Table] = {
    "organisations": Table(
        "The tenants: a local authority or partnership, and the area it serves.",
        "organisations (not personal data)",
        (Access(policy.READ_CONTEXT, "the user's own organisation's name and area"),),
        "Kept while the organisation uses contextmap; deleting it deletes every row that cascades from it.",
        (API, MAPS),
        {
            "slug": Column("Short name used on the command line (e.g. demo-town)."),
            "name": Column("The organisation's display name."),
            "service_area": Column("The area it serves (multipolygon); points outside are refused."),
            "suppress_max": Column("The organisation's own small-count threshold for panel outputs (counts 1 to "
                                   "this are suppressed); empty means the deployment's, which is also the floor."),
            "round_to": Column("The organisation's own rounding base for panel counts; empty means the "
                               "deployment's, which is also the floor."),
            "retention_days": Column("The organisation's own incident retention period in days; empty means the "
                                     "deployment's, which is also the longest allowed."),
        },
    ),
    "users": Table(
        "People who sign in: staff of the organisation and its panel partners.",
        "professionals (staff and partners)",
        (Access(policy.ADMINISTER, "the user list (admins of the same organisation)"),),
        "Kept until an admin removes or disables the account; disabled accounts keep their row so that the "
        "audit log still names who did what. The deploying organisation decides when to delete leavers.",
        (API, AUDIT_LOG),
        {
            "email": Column("Work e-mail address: the sign-in name.", STAFF),
            "role": Column("admin, community_safety, youth_worker or panel.", STAFF),
            "password_hash": Column("argon2 hash of the password (never the password).", STAFF,
                                    flows=(NOWHERE,)),
            "disabled_at": Column("When the account was disabled (sign-in and tokens stop).", STAFF),
        },
    ),
    "api_tokens": Table(
        "API tokens and browser sessions, stored only as SHA-256 hashes.",
        "professionals (their credentials)",
        (Access(policy.ADMINISTER, "revocation only; token values are never shown again"),),
        "API tokens expire after {token_ttl_days} days, sessions after {session_ttl_hours} hours; expired and "
        "revoked rows stay (they authenticate nothing) until the user or organisation is deleted.",
        (NOWHERE,),
        {
            "user_id": Column("The user the token belongs to.", STAFF),
            "kind": Column("api or session."),
            "token_hash": Column("SHA-256 of the token (the token itself is shown once, then never stored).",
                                 STAFF),
            "prefix": Column("First characters of the token, to tell tokens apart.", STAFF),
            "expires_at": Column("When the token stops working."),
            "revoked_at": Column("When it was revoked, if it was."),
        },
    ),
    "places": Table(
        "Contexts where young people spend time: outlets, libraries, parks, stations, estates.",
        "places and the organisations that run them",
        (Access(policy.READ_CONTEXT, "every role; panel without free text"),),
        KEPT_WHILE_IN_USE,
        (API, EXPORTS, OGC, MAPS, PANEL),
        {
            "name": Column("Name of the place."),
            "kind": Column("Kind of place (fast food, library, park, school, …)."),
            "address": Column("Postal address or description of where it is.", panel=WITHHELD),
            "opening_hours": Column("Opening hours (OpenStreetMap opening_hours syntax)."),
            "place_manager": Column("Who is responsible for the place (an organisation or a role).", PROFESSIONAL,
                                    panel=WITHHELD),
            "notes": Column("Free-text notes.", FREE_TEXT, FREE_TEXT_SENSITIVE, WITHHELD),
            "geom": Column("Where the place is (point or polygon)."),
            "geom_metric": Column("The same shape in the analysis CRS (generated).", flows=(NOWHERE,)),
        },
    ),
    "designations": Table(
        "Time-bounded judgements about a place: a place of concern (level, reason, review date) or a safe space.",
        "places (a safeguarding judgement about a context, not about a person)",
        (Access(policy.READ_CONTEXT, "every role; panel without free text"),),
        KEPT_WHILE_IN_USE + " Ended designations are kept as the place's history.",
        (API, EXPORTS, OGC, MAPS, PANEL),
        {
            "place_id": Column("The place judged."),
            "kind": Column("concern or safe_space."),
            "valid_from": Column("Start of the judgement."),
            "valid_to": Column("End of the judgement (open while current)."),
            "level": Column("Level of concern."),
            "reason": Column("Why the place is of concern (free text).", FREE_TEXT, FREE_TEXT_SENSITIVE, WITHHELD),
            "review_by": Column("Date by which the concern must be reviewed."),
            "scheme": Column("Safe-space scheme the place belongs to.", panel=WITHHELD),
            "age_min": Column("Youngest age the safe space serves."),
            "age_max": Column("Oldest age the safe space serves."),
            "help_offered": Column("Help a safe space offers (list).", panel=WITHHELD),
            "accessibility": Column("Accessibility of the safe space.", panel=WITHHELD),
            "verified_on": Column("When the safe space was last checked."),
            "notes": Column("Free-text notes.", FREE_TEXT, FREE_TEXT_SENSITIVE, WITHHELD),
        },
    ),
    "guardians": Table(
        "Guardian roles at places (place manager, staff, youth worker, volunteer, security) and their training.",
        "roles at places, never named people (by design)",
        (Access(policy.READ_CONTEXT, "every role; panel without free text"),),
        KEPT_WHILE_IN_USE,
        (API, EXPORTS, OGC, MAPS, PANEL),
        {
            "place_id": Column("The place guarded."),
            "role": Column("The guardian role."),
            "description": Column("Free-text description of the role.", PROFESSIONAL, "", WITHHELD),
            "trainings": Column("Training received, with dates (list).", PROFESSIONAL),
            "hours": Column("When the guardian is present."),
            "notes": Column("Free-text notes.", FREE_TEXT, FREE_TEXT_SENSITIVE, WITHHELD),
        },
    ),
    "incidents": Table(
        "Events of harm or concern to young people outside the family: when, where, what kind, how many.",
        "young people, indirectly: no names, dates of birth or case numbers are stored",
        (Access(policy.READ_INCIDENTS, "individual records"),
         Access(policy.ANALYSIS, "analyses and maps; panel: disclosure-controlled counts only")),
        "Incidents that ended more than {retention_days} days ago are {retention_mode}d by "
        "`contextmap retention apply` (schedule it daily; archived rows go to `incidents_archive`); an "
        "organisation's admin may set a shorter period for their own incidents.",
        (API, EXPORTS, OGC, TILES, MAPS, PANEL),
        _INCIDENT_COLUMNS,
    ),
    "incidents_archive": Table(
        "Incidents past the retention period when retention runs in archive mode; the web service cannot "
        "read it (no grant).",
        "young people, indirectly (as incidents)",
        (),
        "No automatic deletion: the deploying organisation must set how long archived incidents are kept "
        "and delete them (DPIA question D6). Archive rows are not deleted with their organisation.",
        (NOWHERE,),
        {**_INCIDENT_COLUMNS, "organisation_id": COMMON["organisation_id"],
         "archived_at": Column("When retention moved the row here.")},
    ),
    "incident_cell_months": Table(
        "Live incidents counted per published grid square (250 m, 500 m, 1 km), Europe/London month, harm "
        "category and source: the analyses on the published grid read it instead of the incidents. Kept "
        "current by triggers in the same transaction as every incident write; `contextmap aggregates rebuild` "
        "recounts it.",
        "young people, indirectly (counts of incidents; no record, time or point)",
        (Access(policy.ANALYSIS, "hot spots, emerging hot spots and map timelines; panel: disclosure-controlled "
                                 "counts only"),),
        "Follows the incidents: a row changes or goes when its incidents are edited, deleted or removed by "
        "retention, and goes with its organisation.",
        (API, OGC, TILES, MAPS, PANEL),
        {
            "cell_size": Column("Side of the published grid square in metres (250, 500 or 1000)."),
            "month": Column("First day of the Europe/London calendar month."),
            "cell_i": Column("Column of the square on the analysis grid: floor(easting / cell_size)."),
            "cell_j": Column("Row of the square on the analysis grid: floor(northing / cell_size)."),
            "harm_category": Column("Harm category of the incidents counted ('*': every category).",
                                    sensitive=OFFENCE_AND_SPECIAL, panel=AGGREGATES),
            "source": Column("Where the incidents came from (police.uk, council ASB, partner, manual; '*': every "
                             "source)."),
            "incidents": Column("How many live incidents have this square, month, harm category and source.",
                                YOUNG_PEOPLE_INDIRECT, OFFENCE_AND_SPECIAL, AGGREGATES),
        },
    ),
    "analysis_data_versions": Table(
        "When the data an organisation's analyses read last changed: a number per calendar month of incident "
        "times, and one for its places, interventions and settings. Bumped by triggers in the same "
        "transaction as every write; a heavy analysis's answer is reused only while its numbers are unchanged.",
        "nobody: version numbers only",
        (Access(policy.ANALYSIS, "read by the analyses of the reader's own organisation, never shown"),),
        "Kept while the organisation exists (`contextmap retention apply` folds each month's rows into one); "
        "goes with it.",
        (NOWHERE,),
        {
            "month": Column("First day of a UTC calendar month of incident times ('-infinity': places, "
                            "interventions and the organisation)."),
            "version": Column("A sequence number of a write to data of that month (or kind)."),
            "changes": Column("How many writes the row stands for (rows are folded together by retention)."),
        },
    ),
    "interventions": Table(
        "Responses partners make at a place or area (disruption, youth provision, training, …) and who owns them.",
        "places and partner organisations",
        (Access(policy.READ_CONTEXT, "every role; panel without free text"),),
        KEPT_WHILE_IN_USE,
        (API, EXPORTS, MAPS, PANEL),
        {
            "place_id": Column("The place of the intervention, if at one place."),
            "kind": Column("Kind of intervention."),
            "description": Column("What was done (free text).", FREE_TEXT, FREE_TEXT_SENSITIVE, WITHHELD),
            "owning_partner": Column("The partner organisation that owns it.", PROFESSIONAL, panel=WITHHELD),
            "partners": Column("Other partner organisations (list).", PROFESSIONAL, panel=WITHHELD),
            "starts_on": Column("First day."),
            "ends_on": Column("Last day."),
            "notes": Column("Free-text notes.", FREE_TEXT, FREE_TEXT_SENSITIVE, WITHHELD),
            "title": Column("A short title written to be shared with multi-agency panels.", FREE_TEXT),
            "shareable_summary": Column("A short summary written to be shared with multi-agency panels: the only "
                                        "text about the intervention a panel sees.", FREE_TEXT),
            "geom": Column("Area of the intervention, when not one place."),
        },
    ),
    "street_edges": Table(
        "The organisation's walkable street network (from OS Open Roads, OpenStreetMap or its own data).",
        "streets (not personal data)",
        (Access(policy.ANALYSIS, "walking distances to safe spaces"),),
        "Replaced when the network is re-imported; deleted with the organisation.",
        (MAPS,),
        {
            "name": Column("Street name."),
            "geom": Column("The street segment (line)."),
            "geom_metric": Column("The same line in the analysis CRS (generated).", flows=(NOWHERE,)),
            "length_m": Column("Length in metres (generated).", flows=(NOWHERE,)),
        },
    ),
    "assessments": Table(
        "Location assessments (the practice's triangle: young people, guardianship, environment) with "
        "ratings, methods, recommended responses and outcome goals.",
        "places; notes describe young people as a group at the place, never one young person",
        (Access(policy.READ_CONTEXT, "every role; panel sees ratings and measures without free text"),),
        KEPT_WHILE_IN_USE,
        (API, MAPS, PANEL),
        {
            "place_id": Column("The place assessed."),
            "assessed_on": Column("Date of the assessment."),
            "young_people_rating": Column("Red/amber/green rating of young people's strengths and needs."),
            "young_people_notes": Column("Notes on young people at the place (free text).", FREE_TEXT,
                                         FREE_TEXT_SENSITIVE, WITHHELD),
            "guardianship_rating": Column("Red/amber/green rating of guardianship."),
            "guardianship_notes": Column("Notes on guardianship (free text).", FREE_TEXT, FREE_TEXT_SENSITIVE,
                                         WITHHELD),
            "environment_rating": Column("Red/amber/green rating of environment, resources and policy."),
            "environment_notes": Column("Notes on the environment (free text).", FREE_TEXT, FREE_TEXT_SENSITIVE,
                                        WITHHELD),
            "methods": Column("Methods used (observation, walkabout, consultation, …)."),
            "context_weighting": Column("Rank of this context among a young person's contexts."),
            "recommended_responses": Column("Recommended responses (list of free text).", FREE_TEXT,
                                            FREE_TEXT_SENSITIVE, WITHHELD),
            "review_on": Column("When to review the assessment."),
            "goals": Column("Outcome goals with baseline and observations (statements and notes are free text).",
                            FREE_TEXT, FREE_TEXT_SENSITIVE, "measures only; statements and notes withheld"),
            "notes": Column("Free-text notes.", FREE_TEXT, FREE_TEXT_SENSITIVE, WITHHELD),
        },
    ),
    "safety_maps": Table(
        "Safety maps made with young people (issue 21) that the young person agreed may be added, anonymously, "
        "to the area picture: one row per map, so the picture counts separate maps per cell. Maps without "
        "that agreement are never written (only an audit record that a session happened).",
        "young people, indirectly: a month and an age band; no name, day, worker, words or drawn shape",
        (Access(policy.ANALYSIS, "the area picture (/safety-mapping/area): cells marked by at least the "
                                 "disclosure threshold of separate maps; panel counts rounded"),),
        SAFETY_MAP_RETENTION,
        (MAPS, PANEL),
        {
            "id": Column("The map's reference (shown to the worker once, so that a withdrawal can be acted on).",
                         panel=NOT_SHOWN),
            "month": Column("The month of the session (first day of the month; never the day).",
                            YOUNG_PEOPLE_INDIRECT, panel=AGGREGATES),
            "age_band": Column("The young person's age band (10 to 13, 14 or 15, 16 or 17, 18 to 25).",
                               YOUNG_PEOPLE_INDIRECT, panel=AGGREGATES),
            "submission_id": Column("A random id the session form was given, so that posting the finished form "
                                    "twice keeps one map (not derived from anyone).", panel=NOT_SHOWN),
        },
    ),
    "safety_map_marks": Table(
        "Red/amber/green marks of agreed safety maps, snapped to the organisation's published 250 m grid "
        "squares (never the drawn areas or routes).",
        "young people, indirectly (how one young person feels about a 250 m square)",
        (Access(policy.ANALYSIS, "the area picture: counts of separate maps per cell and rating, shown only "
                                 "for cells at or above the disclosure threshold"),),
        SAFETY_MAP_RETENTION,
        (MAPS, PANEL),
        {
            "id": Column("Row identifier (a number, meaningless outside contextmap).", panel=NOT_SHOWN),
            "safety_map_id": Column("The map the mark belongs to (counts separate maps).", panel=NOT_SHOWN),
            "cell_size": Column("Side of the published grid square in metres (250)."),
            "cell_i": Column("Column of the published grid square (easting / 250 in the analysis CRS).",
                             YOUNG_PEOPLE_INDIRECT, panel=AGGREGATES),
            "cell_j": Column("Row of the published grid square (northing / 250 in the analysis CRS).",
                             YOUNG_PEOPLE_INDIRECT, panel=AGGREGATES),
            "rating": Column("Red (unsafe), amber (not sure) or green (safe).", YOUNG_PEOPLE_INDIRECT,
                             panel=AGGREGATES),
            "phrase": Column("The young person's words about the place, only when the worker marked them "
                             "shareable (free text).", FREE_TEXT, FREE_TEXT_SENSITIVE, WITHHELD),
        },
    ),
    "safety_map_safe_places": Table(
        "Places of ours that young people named as safe on agreed safety maps: the area picture lists those "
        "that are not yet safe spaces.",
        "places; young people indirectly (one map names the place)",
        (Access(policy.ANALYSIS, "the area picture: places named by at least the disclosure threshold of maps"),),
        SAFETY_MAP_RETENTION,
        (MAPS, PANEL),
        {
            "id": Column("Row identifier (a number, meaningless outside contextmap).", panel=NOT_SHOWN),
            "safety_map_id": Column("The map that named the place.", panel=NOT_SHOWN),
            "place_id": Column("The place named as safe.", panel=AGGREGATES),
        },
    ),
    "place_suggestions": Table(
        "New safe places suggested during safety-mapping sessions (with agreement), for staff to review; no "
        "link to the map or the young person.",
        "places; the name is typed by the worker (free text)",
        (Access(policy.WRITE_SAFE_SPACES, "staff and youth workers reviewing suggestions on the area page"),),
        SAFETY_MAP_RETENTION,
        (MAPS,),
        {
            "id": Column("Row identifier (a number, meaningless outside contextmap).", panel=NOT_SHOWN),
            "name": Column("The place as the young person or worker named it (free text).", FREE_TEXT,
                           FREE_TEXT_SENSITIVE, NOT_SHOWN),
            "kind": Column("What kind of place it is, if known (place kinds).", panel=NOT_SHOWN),
            "month": Column("The month it was suggested.", panel=NOT_SHOWN),
            "cell_size": Column("Side of the published grid square it lies in (250 m), if a location was given.",
                                panel=NOT_SHOWN),
            "cell_i": Column("Column of that grid square.", panel=NOT_SHOWN),
            "cell_j": Column("Row of that grid square.", panel=NOT_SHOWN),
        },
    ),
    "audit_events": Table(
        "Append-only record of who did or saw what: sign-ins, writes, reads of incidents, exports, analyses.",
        "professionals (their actions)",
        (Access(policy.ADMINISTER, "the audit log of the admin's own organisation"),),
        "No automatic deletion (the service role cannot delete audit rows): the deploying organisation "
        "sets how long the audit log is kept and prunes it as the owner (DPIA question D6).",
        (AUDIT_LOG,),
        {
            "organisation_id": Column("The organisation (a sign-in with an unknown e-mail is recorded in "
                                      "audit_events_unattributed instead).", flows=(NOWHERE,)),
            "user_id": Column("Who acted.", STAFF),
            "at": Column("When (UTC).", STAFF),
            "action": Column("What was done (e.g. signin.success, place.create, export).", STAFF),
            "resource": Column("What it was done to; for sign-ins, the e-mail address tried.", STAFF),
            "request_id": Column("The request's id, generated by the server, to match server logs.", STAFF),
            "client_request_id": Column("The X-Request-ID the client sent, if any (kept apart from the server's "
                                        "own id; never trusted).", STAFF),
            "client": Column("The client's IP address.", STAFF),
            "detail": Column("Parameters of the action (filters, counts); never incident free text.", STAFF),
        },
    ),
    "import_jobs": Table(
        "Imports started from the web pages: their stage, progress and report, so that every worker process can "
        "show the progress and result pages.",
        "professionals (who started the import); the report quotes rejected rows' line numbers and reasons",
        (Access(policy.IMPORT_INCIDENTS, "the import progress and result pages, and the rejected rows as CSV"),),
        "A finished job is deleted 7 days after it finished, or sooner once the organisation has more than 200; "
        "the import's outcome stays in the audit log (the import history).",
        (NOWHERE,),
        {
            "id": Column("A random identifier of the job (in the page's address)."),
            "user_id": Column("Who started the import.", STAFF),
            "kind": Column("police_uk or partner."),
            "target": Column("What a partner file holds: incidents, places or safe spaces."),
            "files": Column("The uploaded files' names, sizes and where they are staged on the server's disk.",
                            PROFESSIONAL),
            "workdir": Column("The server directory holding the staged uploads until the import ends."),
            "dry_run": Column("Whether the import was a dry run (nothing written)."),
            "allow_partial": Column("Whether rejected rows were skipped instead of refusing the whole file."),
            "mapping": Column("Which of the file's columns hold which field (partner files)."),
            "crs": Column("The coordinate system of a partner CSV's location columns."),
            "stage": Column("mapping, queued, reading, writing, done, refused or failed."),
            "rows_read": Column("Rows read so far."),
            "done_bytes": Column("Bytes read so far (for the progress bar)."),
            "report": Column("What the import did: counts, and rejected rows by file, line number and reason "
                             "(reasons may quote a value of the file).", YOUNG_PEOPLE_INDIRECT, OFFENCE),
            "message": Column("Why the file was refused or the import failed."),
            "new_incidents_from": Column("First day of the incidents the import wrote (for the hot-spot map link)."),
            "new_incidents_to": Column("Last day of the incidents the import wrote."),
            "started_at": Column("When the job was created."),
            "heartbeat_at": Column("When the process running the job last said it was alive."),
            "finished_at": Column("When the job finished."),
        },
    ),
    "audit_events_unattributed": Table(
        "Append-only record of actions no organisation can be named for yet: a sign-in refused or throttled "
        "for an e-mail no user has. Kept apart from audit_events because on a Citus cluster the organisation "
        "is the distribution column and cannot be empty; only the owner reads it.",
        "professionals (the e-mail address tried)",
        (),
        "No automatic deletion (the service role can only add rows): the deploying organisation sets how long "
        "it is kept and prunes it as the owner, with the audit log (DPIA question D6).",
        (NOWHERE,),
        {
            "user_id": Column("Empty (no user is known); kept for the same shape as audit_events.", STAFF),
            "at": Column("When (UTC).", STAFF),
            "action": Column("What was refused (e.g. signin.failure, signin.throttled).", STAFF),
            "resource": Column("The e-mail address tried.", STAFF),
            "request_id": Column("The request's id, generated by the server, to match server logs.", STAFF),
            "client_request_id": Column("The X-Request-ID the client sent, if any (never trusted).", STAFF),
            "client": Column("The client's IP address.", STAFF),
            "detail": Column("Parameters of the action.", STAFF),
        },
    ),
    "school_terms": Table(
        "The organisation's local school-term dates; the gaps between terms are the school holidays (SH) of "
        "opening hours.",
        "none (calendar dates)",
        (Access(policy.READ_CONTEXT, "opening hours of places and guardians, the safe-space finder"),),
        KEPT_WHILE_IN_USE,
        (API, MAPS),
        {
            "name": Column("The term's name (e.g. Autumn 2026)."),
            "starts_on": Column("First day of the term."),
            "ends_on": Column("Last day of the term."),
        },
    ),
    "sign_in_failures": Table(
        "Recent failed sign-ins, counted per (e-mail, client address) so every worker process throttles the same "
        "guesses.",
        "professionals (pseudonymised: a SHA-256 digest of e-mail and address)",
        (),
        "A key is removed on a successful sign-in and forgotten automatically once twice the throttle window has "
        "passed without a failure.",
        (NOWHERE,),
        {
            "key_hash": Column("SHA-256 digest of the e-mail tried and the client address (no e-mail stored).",
                               STAFF),
            "failures": Column("Failures within the current window."),
            "last_failed_at": Column("When the last failure happened (UTC).", STAFF),
        },
    ),
    "alembic_version": Table(
        "The schema's migration revision (Alembic).",
        "none",
        (),
        "One row, replaced by each migration.",
        (NOWHERE,),
        {"version_num": Column("The current migration revision.")},
    ),
}


def describes(table: str, column: str) -> Column | None:
    """The description of ``table.column``: the table's own, else the shared one, else None."""
    entry = TABLES.get(table)
    if entry is None:
        return None
    return entry.columns.get(column) or COMMON.get(column)
