"""Application services: what the analysis endpoints and the map pages do, without HTTP.

Routers parse parameters, authorise and shape responses; these modules combine the PostGIS aggregates
(:mod:`app.db`) with the statistics (:mod:`geo`) and decide what a reader may see
(:mod:`app.services.disclosure`). They take a SQLAlchemy session and may raise :mod:`app.exceptions` domain
exceptions, but never import FastAPI's request or response machinery.
"""
